//! One notion of a Python function's identity, shared by `tachy profile` (text, diff),
//! `tachy lint --profile` and `tachy check`'s profile limits.
//!
//! A function is its file, its qualified name as the profile shows it (py-spy reads
//! `co_qualname` on Python 3.11+: `Parser.push`, `Outer.<locals>.inner`; older Pythons give the
//! bare name) and its `def` line. A *spelling* names a function the way the profile's own output
//! does; every one of these matches `Parser.push` defined in `blib2to3/pgen2/parse.py`:
//!
//! - the qualified name or any dotted suffix of it: `Parser.push`, `push`;
//! - the module (from the file path) before it, or a dotted suffix of the module:
//!   `blib2to3.pgen2.parse.Parser.push`, `pgen2.parse.Parser.push`, `parse.Parser.push`;
//! - a file (a suffix of its path, whole components) and a colon before either:
//!   `parse.py:Parser.push`, `pgen2/parse.py:push`.
//!
//! [`find`] returns every function a spelling matches (a limit takes the largest share among
//! them); [`closest`] suggests names when nothing matches.

use crate::profile::FunctionStat;

/// A Python function's identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FunctionId<'a> {
    /// Full path of its source file, as the profile recorded it.
    pub path: &'a str,
    /// The file as displayed (module-relative when known).
    pub file: &'a str,
    /// The qualified name as the profile shows it (`Parser.push`, `<module>`).
    pub qualname: &'a str,
    /// Its `def` (or `class`) line; 1 for `<module>`; 0 when unknown.
    pub def_line: i32,
}

impl<'a> FunctionId<'a> {
    /// The last part of the qualified name (`push` for `Parser.push`).
    pub fn name(&self) -> &'a str {
        self.qualname.rsplit('.').next().unwrap_or(self.qualname)
    }

    /// The dotted module name derived from the path: the path's components without the
    /// `.py` extension and without a trailing `__init__` (`/src/blib2to3/pgen2/parse.py` gives
    /// `src`, `blib2to3`, `pgen2`, `parse`). Leading components such as `site-packages` are
    /// harmless: spellings match a suffix.
    pub fn module_parts(&self) -> Vec<&'a str> {
        let mut parts: Vec<&str> = self.path.split(['/', '\\']).filter(|p| !p.is_empty() && *p != ".").collect();
        if let Some(last) = parts.pop() {
            let stem = [".py", ".pyw", ".pyx"].iter().find_map(|ext| last.strip_suffix(ext)).unwrap_or(last);
            if stem != "__init__" {
                parts.push(stem);
            }
        }
        parts
    }

    /// Whether `spelling` names this function (see the module documentation for the forms).
    pub fn matches(&self, spelling: &str) -> bool {
        let spelling = spelling.trim();
        let (file, name) = match spelling.rsplit_once(':') {
            Some((file, name)) if !file.is_empty() => (Some(file), name),
            _ => (None, spelling),
        };
        if name.is_empty() {
            return false;
        }
        let wanted: Vec<&str> = name.split('.').collect();
        let qual: Vec<&str> = self.qualname.split('.').collect();
        match file {
            Some(file) => {
                (path_ends_with(self.path, file) || path_ends_with(self.file, file)) && qual.ends_with(&wanted)
            }
            None => {
                if qual.ends_with(&wanted) {
                    return true;
                }
                // The module (or a dotted suffix of it) before the whole qualified name.
                wanted.len() > qual.len() && wanted.ends_with(&qual) && {
                    let module_part = &wanted[..wanted.len() - qual.len()];
                    self.module_parts().ends_with(module_part)
                }
            }
        }
    }

    /// `file:line qualname`, how a check row or a message names the function.
    pub fn label(&self) -> String {
        if self.def_line > 0 {
            format!("{}:{} {}", self.file, self.def_line, self.qualname)
        } else {
            format!("{}:{}", self.file, self.qualname)
        }
    }
}

/// Whether the path `path` ends with the whole components of `suffix` (`parse.py` and
/// `pgen2/parse.py` end `/x/pgen2/parse.py`; `rse.py` does not).
fn path_ends_with(path: &str, suffix: &str) -> bool {
    let theirs: Vec<&str> = path.split(['/', '\\']).filter(|p| !p.is_empty() && *p != ".").collect();
    let ours: Vec<&str> = suffix.split(['/', '\\']).filter(|p| !p.is_empty() && *p != ".").collect();
    !ours.is_empty() && theirs.ends_with(&ours)
}

impl FunctionStat {
    /// This function's identity.
    pub fn id(&self) -> FunctionId<'_> {
        FunctionId { path: &self.path, file: &self.file, qualname: &self.function, def_line: self.def_line }
    }
}

/// Every function `spelling` matches, in the order of `functions`.
pub fn find<'a>(functions: &'a [FunctionStat], spelling: &str) -> Vec<&'a FunctionStat> {
    functions.iter().filter(|f| f.id().matches(spelling)).collect()
}

/// Up to `n` functions whose names are closest to `spelling` (edit distance to the qualified
/// name, to its last part and to `file:qualname`; ties go to the function with more samples),
/// as `file:qualname` labels that are themselves valid spellings.
pub fn closest(functions: &[FunctionStat], spelling: &str, n: usize) -> Vec<String> {
    let spelling = spelling.trim();
    let (file, name) = match spelling.rsplit_once(':') {
        Some((file, name)) if !file.is_empty() => (Some(file), name),
        _ => (None, spelling),
    };
    let last = name.rsplit('.').next().unwrap_or(name);
    let mut scored: Vec<(usize, u64, String)> = functions
        .iter()
        .map(|f| {
            let id = f.id();
            let mut d = levenshtein(name, id.qualname).min(levenshtein(last, id.name()) + 1);
            // A dotted spelling may carry a module: compare its tail of the same length too.
            let parts: Vec<&str> = name.split('.').collect();
            let q = id.qualname.split('.').count();
            if parts.len() > q {
                d = d.min(levenshtein(&parts[parts.len() - q..].join("."), id.qualname) + 1);
            }
            if let Some(file) = file {
                let file_d = if path_ends_with(id.path, file) || path_ends_with(id.file, file) {
                    0
                } else {
                    let base = id.file.rsplit(['/', '\\']).next().unwrap_or(id.file);
                    levenshtein(file.rsplit(['/', '\\']).next().unwrap_or(file), base)
                };
                d += file_d;
            }
            (d, f.total_samples, format!("{}:{}", id.file, id.qualname))
        })
        .collect();
    scored.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)).then_with(|| a.2.cmp(&b.2)));
    let mut out: Vec<String> = Vec::new();
    for (_, _, label) in scored {
        if out.len() == n {
            break;
        }
        if !out.contains(&label) {
            out.push(label);
        }
    }
    out
}

/// Edit distance (insertions, deletions, substitutions) between two strings, by character.
fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stat(path: &str, file: &str, qualname: &str, line: i32, total: u64) -> FunctionStat {
        FunctionStat {
            function: qualname.into(),
            file: file.into(),
            path: path.into(),
            line,
            def_line: line,
            self_samples: total / 2,
            total_samples: total,
        }
    }

    const PARSE: &str = "/venv/lib/python3.11/site-packages/blib2to3/pgen2/parse.py";

    fn push() -> FunctionStat {
        stat(PARSE, "blib2to3/pgen2/parse.py", "Parser.push", 187, 40)
    }

    #[test]
    fn every_spelling_the_output_shows_matches() {
        let f = push();
        for s in [
            "push",
            "Parser.push",
            "parse.Parser.push",
            "pgen2.parse.Parser.push",
            "blib2to3.pgen2.parse.Parser.push",
            "parse.py:push",
            "parse.py:Parser.push",
            "pgen2/parse.py:Parser.push",
            "blib2to3/pgen2/parse.py:Parser.push",
            &format!("{PARSE}:Parser.push"),
            " Parser.push ",
        ] {
            assert!(f.id().matches(s), "{s} should match");
        }
        for s in [
            "Parser",
            "ush",
            "Parser.pus",
            "parse.push",
            "driver.Parser.push",
            "rse.py:Parser.push",
            "driver.py:Parser.push",
            "parse.py:Other.push",
            "parse.py:",
            ":push",
            "",
        ] {
            assert!(!f.id().matches(s), "{s} should not match");
        }
    }

    #[test]
    fn nested_modules_and_packages() {
        let inner = stat("/app/pkg/mod.py", "pkg/mod.py", "Outer.<locals>.inner", 12, 5);
        assert!(inner.id().matches("inner"));
        assert!(inner.id().matches("Outer.<locals>.inner"));
        assert!(inner.id().matches("pkg.mod.Outer.<locals>.inner"));
        assert!(inner.id().matches("mod.py:inner"));
        assert!(!inner.id().matches("Outer.inner"));
        // A package's __init__.py is the package's module; a bare name (Python < 3.11) works.
        let init = stat("/app/pkg/__init__.py", "pkg/__init__.py", "setup", 3, 5);
        assert!(init.id().matches("pkg.setup"));
        assert!(init.id().matches("__init__.py:setup"));
        assert!(!init.id().matches("__init__.setup"));
        let m = stat("/app/main.py", "main.py", "<module>", 1, 5);
        assert!(m.id().matches("main.py:<module>") && m.id().matches("main.<module>"));
        assert_eq!(push().id().label(), "blib2to3/pgen2/parse.py:187 Parser.push");
        assert_eq!(stat("/a.py", "a.py", "f", 0, 1).id().label(), "a.py:f");
    }

    #[test]
    fn ambiguous_spellings_find_every_function() {
        let fs = vec![
            push(),
            stat("/venv/blib2to3/pgen2/driver.py", "blib2to3/pgen2/driver.py", "TokenProxy.push", 50, 10),
            stat("/venv/black/linegen.py", "black/linegen.py", "push", 9, 3),
        ];
        assert_eq!(find(&fs, "push").len(), 3);
        assert_eq!(find(&fs, "Parser.push").len(), 1);
        assert_eq!(find(&fs, "pgen2.push").len(), 0, "pgen2 is not the module of a push");
        assert_eq!(find(&fs, "black.linegen.push")[0].file, "black/linegen.py");
        assert_eq!(find(&fs, "driver.py:push")[0].function, "TokenProxy.push");
    }

    #[test]
    fn no_match_suggests_the_closest() {
        let fs = vec![
            push(),
            stat("/venv/blib2to3/pgen2/parse.py", "blib2to3/pgen2/parse.py", "Parser.pop", 200, 30),
            stat("/venv/blib2to3/pgen2/driver.py", "blib2to3/pgen2/driver.py", "Driver.parse_tokens", 90, 90),
            stat("/venv/blib2to3/pgen2/tokenize.py", "blib2to3/pgen2/tokenize.py", "tokenize", 147, 50),
            stat("/venv/black/__init__.py", "black/__init__.py", "format_str", 1000, 95),
        ];
        assert!(find(&fs, "Parser.psh").is_empty());
        let c = closest(&fs, "Parser.psh", 3);
        assert_eq!(c[0], "blib2to3/pgen2/parse.py:Parser.push", "{c:?}");
        assert_eq!(c[1], "blib2to3/pgen2/parse.py:Parser.pop", "{c:?}");
        assert_eq!(closest(&fs, "parse_token", 1), ["blib2to3/pgen2/driver.py:Driver.parse_tokens"]);
        assert_eq!(
            closest(&fs, "blib2to3.pgen2.driver.Driver.parse_tokenz", 1)[0],
            "blib2to3/pgen2/driver.py:Driver.parse_tokens"
        );
        assert_eq!(closest(&fs, "tokenise.py:tokenize", 1), ["blib2to3/pgen2/tokenize.py:tokenize"]);
        assert_eq!(closest(&fs, "x", 10).len(), 5);
        assert!(closest(&[], "x", 3).is_empty());
    }

    #[test]
    fn edit_distance() {
        assert_eq!(levenshtein("kitten", "sitting"), 3);
        assert_eq!(levenshtein("", "abc"), 3);
        assert_eq!(levenshtein("push", "push"), 0);
        assert_eq!(levenshtein("é", "e"), 1);
    }
}
