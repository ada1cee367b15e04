//! Where a sampled function is defined: the line of its `def` (or `class`) header, read from
//! its source file once per file, so a function's location is the same in every run.
//!
//! py-spy's frames carry only the line executing (or the call site). The header of the
//! function is the innermost `def`/`async def`/`class` block that encloses that line and whose
//! name is the last part of the frame's qualified name (`push` for `Parser.push`). Decorator
//! lines belong to the function below them (Python reports a decorated function's first line
//! as its first decorator's). `<module>` is line 1. Lambdas and comprehensions (`<lambda>`,
//! `<listcomp>`, ...) are located at the start of the statement containing them. When the
//! source cannot be read or has changed so that no header fits, the line is unknown (0) and
//! the profile falls back to the smallest sampled line.

use std::collections::HashMap;

/// Files larger than this are not read (no Python source is).
const MAX_SOURCE: u64 = 16 * 1024 * 1024;

/// One `def` or `class` block.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Header {
    /// The first decorator's line, else the header's.
    first: u32,
    /// The `def`/`class` line.
    line: u32,
    /// The block's last line.
    end: u32,
    /// The function or class name.
    name: String,
}

/// The blocks of one source file, and the statement each line belongs to.
#[derive(Debug, Clone, Default)]
pub struct SourceIndex {
    headers: Vec<Header>,
    /// 1-based line -> the first line of its logical line (statement).
    statement_start: Vec<u32>,
}

/// A significant logical line: (first physical line, indent width, text of its first line).
struct Logical<'a> {
    line: u32,
    indent: u32,
    text: &'a str,
}

impl SourceIndex {
    /// Indexes Python source text. Never fails: unusual text gives fewer headers.
    pub fn parse(source: &str) -> SourceIndex {
        let lines: Vec<&str> = source.lines().collect();
        let mut statement_start = vec![0u32; lines.len() + 1];
        let mut logical: Vec<Logical<'_>> = Vec::new();
        // Scanner state carried across physical lines.
        let mut quote: Option<(char, bool)> = None; // (quote char, triple)
        let mut depth: i32 = 0;
        let mut continued = false;
        let mut current_start = 1u32;
        for (i, raw) in lines.iter().enumerate() {
            let n = i as u32 + 1;
            let starts = quote.is_none() && depth <= 0 && !continued;
            if starts {
                current_start = n;
                let trimmed = raw.trim_start();
                if !trimmed.is_empty() && !trimmed.starts_with('#') {
                    logical.push(Logical { line: n, indent: indent_width(raw), text: trimmed });
                }
            }
            statement_start[n as usize] = current_start;
            continued = false;
            let chars: Vec<char> = raw.chars().collect();
            let mut k = 0;
            while k < chars.len() {
                let c = chars[k];
                match quote {
                    Some((q, triple)) => {
                        if c == '\\' {
                            k += 2;
                            continue;
                        }
                        if c == q {
                            if !triple {
                                quote = None;
                            } else if chars.get(k + 1) == Some(&q) && chars.get(k + 2) == Some(&q) {
                                quote = None;
                                k += 3;
                                continue;
                            }
                        }
                    }
                    None => match c {
                        '#' => break,
                        '"' | '\'' => {
                            let triple = chars.get(k + 1) == Some(&c) && chars.get(k + 2) == Some(&c);
                            quote = Some((c, triple));
                            if triple {
                                k += 3;
                                continue;
                            }
                        }
                        '(' | '[' | '{' => depth += 1,
                        ')' | ']' | '}' => depth -= 1,
                        '\\' if k + 1 == chars.len() => continued = true,
                        _ => {}
                    },
                }
                k += 1;
            }
            // A single-quoted string cannot span lines (unless continued with a backslash).
            if let Some((_, false)) = quote
                && !raw.ends_with('\\')
            {
                quote = None;
            }
        }
        let last_line = lines.len() as u32;
        let mut headers = Vec::new();
        for (k, l) in logical.iter().enumerate() {
            let Some(name) = header_name(l.text) else { continue };
            let mut first = l.line;
            for d in logical[..k].iter().rev() {
                if d.indent == l.indent && d.text.starts_with('@') {
                    first = d.line;
                } else {
                    break;
                }
            }
            let end = logical[k + 1..].iter().find(|m| m.indent <= l.indent).map_or(last_line, |m| {
                // The block ends before the next statement at its level (or that statement's
                // decorators), less the blank lines before it.
                let mut e = m.line - 1;
                while e > l.line && lines[e as usize - 1].trim().is_empty() {
                    e -= 1;
                }
                e
            });
            headers.push(Header { first, line: l.line, end, name: name.to_string() });
        }
        SourceIndex { headers, statement_start }
    }

    /// The def line of the function `qualname` sampled at `line`, when it can be told.
    pub fn def_line(&self, qualname: &str, line: i32) -> Option<i32> {
        let name = qualname.rsplit('.').next().unwrap_or(qualname);
        if name == "<module>" {
            return Some(1);
        }
        let line = u32::try_from(line).ok().filter(|l| *l > 0)?;
        if name.starts_with('<') {
            return self.statement_start.get(line as usize).filter(|s| **s > 0).map(|s| *s as i32);
        }
        self.headers
            .iter()
            .filter(|h| h.name == name && h.first <= line && line <= h.end)
            .max_by_key(|h| h.line)
            .map(|h| h.line as i32)
    }
}

/// Width of a line's indentation (a tab advances to the next multiple of 8, as Python's).
fn indent_width(line: &str) -> u32 {
    let mut w = 0;
    for c in line.chars() {
        match c {
            ' ' => w += 1,
            '\t' => w = (w / 8 + 1) * 8,
            '\x0c' => w = 0,
            _ => break,
        }
    }
    w
}

/// The name a `def`, `async def` or `class` statement defines.
fn header_name(text: &str) -> Option<&str> {
    let rest = text.strip_prefix("async").filter(|r| r.starts_with(char::is_whitespace)).map_or(text, str::trim_start);
    let rest = rest.strip_prefix("def").or_else(|| rest.strip_prefix("class"))?;
    if !rest.starts_with(char::is_whitespace) {
        return None;
    }
    let rest = rest.trim_start();
    let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(rest.len());
    (end > 0).then(|| &rest[..end])
}

/// Def lines of sampled frames, each source file read once.
#[derive(Debug, Default)]
pub struct DefLines {
    files: HashMap<String, Option<SourceIndex>>,
}

impl DefLines {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// The def line of `qualname` sampled at `line` of `file` in process `pid`; 0 when unknown.
    /// The file is read as the target sees it: relative paths against its working directory,
    /// absolute ones through its root (a container) when not readable here.
    pub fn resolve(&mut self, pid: u32, file: &str, qualname: &str, line: i32) -> i32 {
        if qualname.rsplit('.').next() == Some("<module>") {
            return 1;
        }
        let index =
            self.files.entry(file.to_string()).or_insert_with(|| read(pid, file).map(|s| SourceIndex::parse(&s)));
        index.as_ref().and_then(|ix| ix.def_line(qualname, line)).unwrap_or(0)
    }
}

fn read(pid: u32, file: &str) -> Option<String> {
    // Native frames (`--native`) name shared libraries and C sources.
    let native =
        [".so", ".c", ".h", ".cc", ".cpp", ".rs"].iter().any(|ext| file.ends_with(ext)) || file.contains(".so.");
    if file.is_empty() || file.starts_with('<') || native {
        return None;
    }
    let candidates = if file.starts_with('/') {
        vec![file.to_string(), format!("/proc/{pid}/root{file}")]
    } else {
        vec![format!("/proc/{pid}/cwd/{file}"), file.to_string()]
    };
    candidates.iter().find_map(|p| {
        let meta = std::fs::metadata(p).ok()?;
        if !meta.is_file() || meta.len() > MAX_SOURCE {
            return None;
        }
        std::fs::read(p).ok().map(|b| String::from_utf8_lossy(&b).into_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: &str = r#""""A module docstring.

def fake(): not a header inside a string
"""
import functools


class Parser:
    """Docstring with a def push(self): line."""

    def __init__(self, grammar):
        self.grammar = grammar

    def push(self, type, newdfa,
             newstate, context):
        # def inside a comment
        text = """
def pop(self):
        """
        return text

    @property
    @functools.lru_cache(maxsize=None)
    def stack(self):
        return []

    async def fetch(self):
        await other()


def outer():
    def inner(x):
        return x + 1
    return [inner(i) for i in range(3)]


async def main(
    a,
    b,
):
    return (lambda y:
        y * 2)(a)
x = 1
"#;

    fn ix() -> SourceIndex {
        SourceIndex::parse(SOURCE)
    }

    fn line_of(text: &str) -> i32 {
        SOURCE.lines().position(|l| l.contains(text)).unwrap() as i32 + 1
    }

    #[test]
    fn methods_resolve_to_their_def_line() {
        let ix = ix();
        let push = line_of("def push(self, type");
        assert_eq!(ix.def_line("Parser.push", line_of("return text")), Some(push));
        // A line inside a multi-line string and the continued signature are still in push.
        assert_eq!(ix.def_line("Parser.push", line_of("def pop(self):")), Some(push));
        assert_eq!(ix.def_line("Parser.push", line_of("newstate, context")), Some(push));
        // Bare names (Python < 3.11) resolve the same way.
        assert_eq!(ix.def_line("__init__", line_of("self.grammar =")), Some(line_of("def __init__")));
        // The class body.
        assert_eq!(ix.def_line("Parser", line_of("class Parser")), Some(line_of("class Parser")));
        // Strings and comments hold no headers.
        assert_eq!(ix.def_line("fake", 3), None);
        assert_eq!(ix.def_line("Parser.pop", line_of("def pop(self):")), None);
    }

    #[test]
    fn decorators_nested_async_and_lambdas() {
        let ix = ix();
        let stack = line_of("def stack(");
        assert_eq!(ix.def_line("Parser.stack", line_of("return []")), Some(stack));
        // A decorated function's first line is its first decorator's.
        assert_eq!(ix.def_line("Parser.stack", line_of("@property")), Some(stack));
        assert_eq!(ix.def_line("Parser.fetch", line_of("await other()")), Some(line_of("async def fetch")));
        assert_eq!(ix.def_line("outer.<locals>.inner", line_of("return x + 1")), Some(line_of("def inner(")));
        assert_eq!(ix.def_line("outer", line_of("return [inner(i)")), Some(line_of("def outer(")));
        assert_eq!(ix.def_line("main", line_of("y * 2")), Some(line_of("async def main(")));
        assert_eq!(ix.def_line("main.<locals>.<lambda>", line_of("y * 2")), Some(line_of("return (lambda")));
        assert_eq!(
            ix.def_line("outer.<locals>.<listcomp>", line_of("return [inner(i)")),
            Some(line_of("return [inner(i)"))
        );
        assert_eq!(ix.def_line("<module>", 0), Some(1));
        // Outside the function's block, or a line of 0: unknown.
        assert_eq!(ix.def_line("main", line_of("x = 1")), None);
        assert_eq!(ix.def_line("outer", 0), None);
    }

    #[test]
    fn one_line_bodies_tabs_and_odd_text() {
        let ix =
            SourceIndex::parse("def f(): return 1\ndef g():\n\treturn 2\nclass C: pass\ndefault = 3\nclassify = 4\n");
        assert_eq!(ix.def_line("f", 1), Some(1));
        assert_eq!(ix.def_line("f", 2), None);
        assert_eq!(ix.def_line("g", 3), Some(2));
        assert_eq!(ix.def_line("C", 4), Some(4));
        assert_eq!(ix.headers.len(), 3, "{:?}", ix.headers);
        let ix = SourceIndex::parse("s = 'unterminated\ndef h():\n    pass\n)))\n");
        assert_eq!(ix.def_line("h", 3), Some(2));
        assert!(SourceIndex::parse("").def_line("f", 1).is_none());
    }

    #[test]
    fn files_are_read_once_and_unreadable_ones_give_zero() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.py");
        std::fs::write(&path, "class A:\n    def f(self):\n        return 1\n").unwrap();
        let file = path.to_str().unwrap();
        let mut d = DefLines::new();
        let me = std::process::id();
        assert_eq!(d.resolve(me, file, "A.f", 3), 2);
        std::fs::remove_file(&path).unwrap();
        assert_eq!(d.resolve(me, file, "A.f", 3), 2, "cached");
        assert_eq!(d.resolve(me, "/nonexistent/x.py", "f", 3), 0);
        assert_eq!(d.resolve(me, "<frozen importlib._bootstrap>", "_find_and_load", 3), 0);
        assert_eq!(d.resolve(me, "/nonexistent/x.py", "<module>", 3), 1);
    }
}
