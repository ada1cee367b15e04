//! Inputs for the parsers' fuzz tests (`tests/fuzz.rs` of each crate that owns a parser):
//! arbitrary bytes and text, and structure-aware mutations of a valid input (bytes flipped,
//! inserted, deleted or duplicated, the file cut short, numbers swapped for huge, negative or
//! NaN values, strings for hostile ones, JSON members deleted or retyped, lines dropped or
//! repeated). Every input is bounded in size, so a case that does not finish is a hang.
//!
//! The tests run `PROPTEST_CASES` cases each (256 unless set), as part of the normal suite;
//! run longer with e.g. `PROPTEST_CASES=100000 cargo test -p tachy-load --test fuzz`.

use std::fmt::Debug;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::Config;
use serde_json::Value;

/// The configuration of every fuzz test: `PROPTEST_CASES` cases (256 by default), no
/// regression files written into the source tree (the failing input is printed instead).
pub fn config() -> Config {
    Config { failure_persistence: None, ..Config::default() }
}

/// Numbers that break careless parsers: huge, negative, NaN, not numbers at all.
pub const HOSTILE_NUMBERS: &[&str] = &[
    "0",
    "-0",
    "-1",
    "-1.5",
    "1e308",
    "-1e308",
    "1e999",
    "1e-320",
    "NaN",
    "-Infinity",
    "4294967295",
    "4294967296",
    "9223372036854775807",
    "-9223372036854775808",
    "18446744073709551615",
    "18446744073709551616",
    "123456789012345678901234567890",
    "0.000000001",
    "65536",
    "\"1\"",
    "null",
    "true",
    "[]",
    "{}",
];

/// Strings that break careless parsers.
pub const HOSTILE_STRINGS: &[&str] = &[
    "",
    " ",
    "\u{0}",
    "é",
    "\u{202e}x",
    "\\",
    "\"",
    "\n",
    "../../x",
    "%",
    "p99<",
    "<=>",
    "1e999s",
    "-5ms",
    "18446744073709551616B",
    "tachy-profile/1",
    "tachy-profile/9",
    "tachy-load/1",
    "tachy-bench/1",
    "tachy-mem/1",
    "tachy-watch/1",
    "tachy-check/1",
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
];

/// Binary fields that break careless readers of binary formats (little-endian u64, u32, i64
/// extremes, a length of 2^31), written over the bytes at some offset.
const HOSTILE_WORDS: &[&[u8]] = &[
    &[0xff; 8],
    &[0xff, 0xff, 0xff, 0xff],
    &[0, 0, 0, 0, 0, 0, 0, 0x80],
    &[0xff, 0xff, 0xff, 0x7f],
    &[0, 0, 0, 0],
    &[1, 0, 0, 0, 0, 0, 0, 0],
];

/// Tokens inserted into text: JSON and TOML punctuation, units and operators.
const TOKENS: &[&str] = &[
    "{", "}", "[", "]", "\"", ",", ":", "=", "\n", "[[", "]]", "null", "#", "'", "\\u", "\\", "e", ".", "-", "%", "ms",
    "s", "MB", "KiB", "/h", "<", "<=", ">", ">=", "p", "9", "\u{fffd}", "\u{0}",
];

/// One edit of a byte string.
#[derive(Debug, Clone)]
enum Edit {
    FlipBit(Index, u8),
    SetByte(Index, u8),
    Overwrite(Index, Index),
    Insert(Index, Vec<u8>),
    InsertToken(Index, Index),
    Delete(Index, usize),
    Truncate(Index),
    Duplicate(Index, usize),
    Number(Index, Index),
    Text(Index, Index),
    DropLine(Index),
    RepeatLine(Index),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<Index>(), 0u8..8).prop_map(|(i, b)| Edit::FlipBit(i, b)),
        (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Edit::SetByte(i, b)),
        (any::<Index>(), any::<Index>()).prop_map(|(i, w)| Edit::Overwrite(i, w)),
        (any::<Index>(), prop::collection::vec(any::<u8>(), 1..16)).prop_map(|(i, b)| Edit::Insert(i, b)),
        (any::<Index>(), any::<Index>()).prop_map(|(i, t)| Edit::InsertToken(i, t)),
        (any::<Index>(), 1usize..64).prop_map(|(i, n)| Edit::Delete(i, n)),
        any::<Index>().prop_map(Edit::Truncate),
        (any::<Index>(), 1usize..64).prop_map(|(i, n)| Edit::Duplicate(i, n)),
        (any::<Index>(), any::<Index>()).prop_map(|(i, n)| Edit::Number(i, n)),
        (any::<Index>(), any::<Index>()).prop_map(|(i, n)| Edit::Text(i, n)),
        any::<Index>().prop_map(Edit::DropLine),
        any::<Index>().prop_map(Edit::RepeatLine),
    ]
}

/// Byte ranges of the numbers in `b` (runs of digits with their sign, point and exponent).
fn numbers(b: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit() {
            let start = if i > 0 && b[i - 1] == b'-' { i - 1 } else { i };
            let mut j = i;
            while j < b.len() && (b[j].is_ascii_digit() || matches!(b[j], b'.' | b'e' | b'E' | b'+' | b'-')) {
                j += 1;
            }
            out.push((start, j));
            i = j;
        } else {
            i += 1;
        }
    }
    out
}

/// Byte ranges of the insides of the double-quoted strings in `b`.
fn strings(b: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'"' {
            let mut j = i + 1;
            while j < b.len() && b[j] != b'"' {
                j += if b[j] == b'\\' { 2 } else { 1 };
            }
            out.push((i + 1, j.min(b.len())));
            i = j + 1;
        } else {
            i += 1;
        }
    }
    out
}

fn lines(b: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, &c) in b.iter().enumerate() {
        if c == b'\n' {
            out.push((start, i + 1));
            start = i + 1;
        }
    }
    if start < b.len() {
        out.push((start, b.len()));
    }
    out
}

fn apply(b: &mut Vec<u8>, e: &Edit) {
    let at = |i: &Index, len: usize| i.index(len + 1);
    match e {
        Edit::FlipBit(i, bit) if !b.is_empty() => {
            let k = i.index(b.len());
            b[k] ^= 1 << bit;
        }
        Edit::SetByte(i, v) if !b.is_empty() => {
            let k = i.index(b.len());
            b[k] = *v;
        }
        Edit::Overwrite(i, w) if !b.is_empty() => {
            let k = i.index(b.len());
            let word = w.get(HOSTILE_WORDS);
            let end = (k + word.len()).min(b.len());
            b[k..end].copy_from_slice(&word[..end - k]);
        }
        Edit::Insert(i, bytes) => {
            let k = at(i, b.len());
            b.splice(k..k, bytes.iter().copied());
        }
        Edit::InsertToken(i, t) => {
            let k = at(i, b.len());
            b.splice(k..k, t.get(TOKENS).bytes());
        }
        Edit::Delete(i, n) if !b.is_empty() => {
            let k = i.index(b.len());
            let end = (k + n).min(b.len());
            b.drain(k..end);
        }
        Edit::Truncate(i) => {
            let k = at(i, b.len());
            b.truncate(k);
        }
        Edit::Duplicate(i, n) if !b.is_empty() => {
            let k = i.index(b.len());
            let end = (k + n).min(b.len());
            let copy = b[k..end].to_vec();
            b.splice(end..end, copy);
        }
        Edit::Number(i, n) => {
            let found = numbers(b);
            if !found.is_empty() {
                let (s, e) = found[i.index(found.len())];
                b.splice(s..e, n.get(HOSTILE_NUMBERS).bytes());
            }
        }
        Edit::Text(i, n) => {
            let found = strings(b);
            if !found.is_empty() {
                let (s, e) = found[i.index(found.len())];
                b.splice(s..e, n.get(HOSTILE_STRINGS).bytes());
            }
        }
        Edit::DropLine(i) => {
            let found = lines(b);
            if !found.is_empty() {
                let (s, e) = found[i.index(found.len())];
                b.drain(s..e);
            }
        }
        Edit::RepeatLine(i) => {
            let found = lines(b);
            if !found.is_empty() {
                let (s, e) = found[i.index(found.len())];
                let copy = b[s..e].to_vec();
                b.splice(e..e, copy);
            }
        }
        _ => {}
    }
}

/// Arbitrary bytes, at most `max` of them.
pub fn bytes(max: usize) -> BoxedStrategy<Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..=max).boxed()
}

/// Arbitrary text of at most `max` characters: any characters, or the alphabet of tachy's
/// small grammars (numbers, units, operators, percent signs) so the parsers get past their
/// first character.
pub fn text(max: usize) -> BoxedStrategy<String> {
    let grammar = prop::collection::vec(
        prop_oneof![
            prop::sample::select(TOKENS).prop_map(str::to_string),
            prop::sample::select(HOSTILE_NUMBERS).prop_map(str::to_string),
            "[a-z]{1,8}",
            "[0-9.eE+-]{1,6}",
            "[ \t<>=%/]",
        ],
        0..=max.div_ceil(4),
    )
    .prop_map(move |parts| parts.concat().chars().take(max).collect::<String>());
    prop_oneof![prop::collection::vec(any::<char>(), 0..=max).prop_map(String::from_iter), grammar].boxed()
}

/// `seed` with one to eight edits applied (bytes, tokens, numbers, strings, lines).
pub fn mutated_bytes(seed: Vec<u8>) -> BoxedStrategy<Vec<u8>> {
    prop::collection::vec(edit(), 1..=8)
        .prop_map(move |edits| {
            let mut b = seed.clone();
            for e in &edits {
                apply(&mut b, e);
            }
            b
        })
        .boxed()
}

/// [`mutated_bytes`] of a text, read back as UTF-8 (invalid sequences replaced).
pub fn mutated_text(seed: &str) -> BoxedStrategy<String> {
    mutated_bytes(seed.as_bytes().to_vec()).prop_map(|b| String::from_utf8_lossy(&b).into_owned()).boxed()
}

/// One edit of a JSON document's tree.
#[derive(Debug, Clone)]
enum JsonEdit {
    /// Number n becomes a hostile number (or literal).
    Number(Index, Index),
    /// String n becomes a hostile string.
    Text(Index, Index),
    /// A member or element of container n is removed.
    Remove(Index, Index),
    /// An element of array n is repeated, or a member of object n is copied under a new name.
    Repeat(Index, Index),
    /// Node n becomes an empty array, an empty object, or a huge array.
    Retype(Index, u8),
}

fn json_edit() -> impl Strategy<Value = JsonEdit> {
    prop_oneof![
        6 => (any::<Index>(), any::<Index>()).prop_map(|(n, v)| JsonEdit::Number(n, v)),
        2 => (any::<Index>(), any::<Index>()).prop_map(|(n, v)| JsonEdit::Text(n, v)),
        2 => (any::<Index>(), any::<Index>()).prop_map(|(n, k)| JsonEdit::Remove(n, k)),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(n, k)| JsonEdit::Repeat(n, k)),
        1 => (any::<Index>(), 0u8..3).prop_map(|(n, t)| JsonEdit::Retype(n, t)),
    ]
}

/// Nodes of `v` (itself included) that `pick` selects.
fn count(v: &Value, pick: fn(&Value) -> bool) -> usize {
    usize::from(pick(v))
        + match v {
            Value::Array(a) => a.iter().map(|x| count(x, pick)).sum(),
            Value::Object(o) => o.values().map(|x| count(x, pick)).sum(),
            _ => 0,
        }
}

/// The `n`th node of `v` (pre-order) that `pick` selects.
fn nth<'a>(v: &'a mut Value, pick: fn(&Value) -> bool, n: &mut usize) -> Option<&'a mut Value> {
    if pick(v) {
        if *n == 0 {
            return Some(v);
        }
        *n -= 1;
    }
    match v {
        Value::Array(a) => a.iter_mut().find_map(|x| nth(x, pick, n)),
        Value::Object(o) => o.values_mut().find_map(|x| nth(x, pick, n)),
        _ => None,
    }
}

/// A node that `pick` selects, chosen by `i`; `None` when there is none.
fn node<'a>(root: &'a mut Value, pick: fn(&Value) -> bool, i: &Index) -> Option<&'a mut Value> {
    let total = count(root, pick);
    if total == 0 {
        return None;
    }
    nth(root, pick, &mut i.index(total))
}

fn any_node(_: &Value) -> bool {
    true
}

fn container(v: &Value) -> bool {
    v.is_array() || v.is_object()
}

fn apply_json(root: &mut Value, e: &JsonEdit) {
    match e {
        JsonEdit::Number(i, v) => {
            if let Some(x) = node(root, Value::is_number, i) {
                let text = v.get(HOSTILE_NUMBERS);
                // Numbers JSON cannot hold (1e999, NaN) are left to the byte edits.
                if let Ok(parsed) = serde_json::from_str::<Value>(text) {
                    *x = parsed;
                }
            }
        }
        JsonEdit::Text(i, v) => {
            if let Some(x) = node(root, Value::is_string, i) {
                *x = Value::String(v.get(HOSTILE_STRINGS).to_string());
            }
        }
        JsonEdit::Remove(i, k) => match node(root, container, i) {
            Some(Value::Array(a)) if !a.is_empty() => {
                let at = k.index(a.len());
                a.remove(at);
            }
            Some(Value::Object(o)) if !o.is_empty() => {
                let key = o.keys().nth(k.index(o.len())).cloned().unwrap_or_default();
                o.remove(&key);
            }
            _ => {}
        },
        JsonEdit::Repeat(i, k) => match node(root, container, i) {
            Some(Value::Array(a)) if !a.is_empty() => {
                let copy = a[k.index(a.len())].clone();
                a.push(copy);
            }
            Some(Value::Object(o)) if !o.is_empty() => {
                let (key, value) =
                    o.iter().nth(k.index(o.len())).map(|(k, v)| (k.clone(), v.clone())).unwrap_or_default();
                o.insert(format!("{key}_"), value);
            }
            _ => {}
        },
        JsonEdit::Retype(i, t) => {
            if let Some(x) = node(root, any_node, i) {
                *x = match t {
                    0 => Value::Array(Vec::new()),
                    1 => Value::Object(serde_json::Map::new()),
                    _ => Value::Array(vec![Value::from(u64::MAX); 1000]),
                };
            }
        }
    }
}

/// `seed` (a valid JSON document) with one to four edits of its tree (values swapped for hostile
/// numbers and strings, members removed, repeated or retyped), and in one case out of five
/// also edited as bytes.
pub fn mutated_json(seed: &[u8]) -> BoxedStrategy<Vec<u8>> {
    let tree: Value = serde_json::from_slice(seed).expect("the seed is valid JSON");
    let seed = seed.to_vec();
    (prop::collection::vec(json_edit(), 1..=4), prop::option::weighted(0.2, prop::collection::vec(edit(), 1..=4)))
        .prop_map(move |(edits, byte_edits)| {
            let mut v = tree.clone();
            for e in &edits {
                apply_json(&mut v, e);
            }
            let mut b = serde_json::to_vec(&v).unwrap_or_else(|_| seed.clone());
            for e in byte_edits.iter().flatten() {
                apply(&mut b, e);
            }
            b
        })
        .boxed()
}

/// The input of the case now running and when it started, for [`guard`]'s watchdog.
static CURRENT: Mutex<Option<(Instant, String)>> = Mutex::new(None);

/// How long one case may take before the watchdog calls it a hang. A bound against hangs
/// (every input is small), never a timing assertion.
pub const HANG_LIMIT: Duration = Duration::from_secs(120);

/// Marks the start of a case: if it has not finished (the guard dropped) within
/// [`HANG_LIMIT`], the process prints the input and aborts, so a hang fails the suite with its
/// input instead of stalling CI.
pub fn guard(input: &impl Debug) -> Guard {
    static WATCHDOG: std::sync::Once = std::sync::Once::new();
    WATCHDOG.call_once(|| {
        std::thread::spawn(|| {
            loop {
                std::thread::sleep(Duration::from_secs(1));
                let current = CURRENT.lock().unwrap_or_else(|e| e.into_inner());
                if let Some((start, input)) = current.as_ref()
                    && start.elapsed() > HANG_LIMIT
                {
                    #[allow(clippy::print_stderr)] // the only way to name the input before aborting
                    {
                        eprintln!("fuzz: a case ran for more than {HANG_LIMIT:?} (a hang); its input: {input}");
                    }
                    std::process::abort();
                }
            }
        });
    });
    let mut text = format!("{input:?}");
    text.truncate(text.floor_char_boundary(4096));
    *CURRENT.lock().unwrap_or_else(|e| e.into_inner()) = Some((Instant::now(), text));
    Guard(())
}

/// Ends a case for the watchdog when dropped.
pub struct Guard(());

impl Drop for Guard {
    fn drop(&mut self) {
        *CURRENT.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_strings_and_lines_are_found() {
        let b = br#"{"a": -12.5e3, "b": "x\"y", "c": 7}"#;
        let n: Vec<_> = numbers(b).into_iter().map(|(s, e)| &b[s..e]).collect();
        assert_eq!(n, [b"-12.5e3".as_slice(), b"7"]);
        let s: Vec<_> = strings(b).into_iter().map(|(s, e)| &b[s..e]).collect();
        assert_eq!(s, [b"a".as_slice(), b"b", br#"x\"y"#, b"c"]);
        assert_eq!(lines(b"a\nb\nc"), [(0, 2), (2, 4), (4, 5)]);
    }

    #[test]
    fn json_edits_reach_every_node() {
        let mut v: Value = serde_json::from_str(r#"{"a": [1, {"b": 2}], "c": "x"}"#).unwrap();
        assert_eq!(count(&v, any_node), 6);
        assert_eq!(count(&v, Value::is_number), 2);
        let mut n = 4;
        *nth(&mut v, any_node, &mut n).unwrap() = Value::from(9);
        assert_eq!(v["a"][1]["b"], 9);
        *nth(&mut v, Value::is_number, &mut 0).unwrap() = Value::from(7);
        assert_eq!(v["a"][0], 7);
    }

    proptest! {
        #![proptest_config(config())]
        #[test]
        fn fuzz_mutations_stay_bounded(seed in bytes(64), edits in prop::collection::vec(edit(), 1..=8)) {
            let mut b = seed.clone();
            for e in &edits {
                apply(&mut b, e);
            }
            // Each edit at most doubles the input or adds a short token.
            prop_assert!(b.len() <= (seed.len() + 200) << 8);
        }
    }
}
