//! The profile join: the CPU share a saved `tachy profile` measured on each finding's lines
//! and in its enclosing function, so findings can be ranked by what they cost.
//!
//! A sample counts for a finding when any frame of its stack (not only the innermost) is in
//! the finding's file on one of its lines: a loop that calls a slow function is charged for
//! the time spent below it.

use std::collections::HashMap;
use std::path::Path;

use tachy_report::Profile;

/// Stacks touching one file: (sample count, (line, function id) of each frame in the file).
type FileStacks = Vec<(u64, Vec<(u32, u32)>)>;

/// A function of the profile: its qualified name and `def` line (0 when the profile has none).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct FnKey {
    qualname: String,
    def_line: i32,
}

impl FnKey {
    fn name(&self) -> &str {
        self.qualname.rsplit('.').next().unwrap_or(&self.qualname)
    }
}

/// Samples of one profile, indexed by source file.
pub struct CostIndex {
    total: u64,
    /// File key -> stacks with at least one frame in that file: (count, frames in the file).
    files: HashMap<String, FileStacks>,
    /// File key -> the full path as written in the profile.
    names: Vec<String>,
    /// Interned functions.
    functions: Vec<FnKey>,
}

/// The function enclosing a finding, as the linter knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Enclosing<'a> {
    /// Its name (the last part of its qualified name).
    pub name: &'a str,
    /// The line of its `def`.
    pub def_line: u32,
    /// Its lines, decorators included.
    pub lines: (u32, u32),
}

impl Enclosing<'_> {
    /// Whether a profile frame at `line` of function `f` runs this function: same `def` line
    /// and name (the function's identity); for a profile without def lines, the same name
    /// and a line inside the definition.
    fn runs(&self, f: &FnKey, line: u32) -> bool {
        f.name() == self.name
            && if f.def_line > 0 {
                f.def_line as u32 == self.def_line
            } else {
                line >= self.lines.0 && line <= self.lines.1
            }
    }
}

/// What one finding cost.
#[derive(Debug, Clone, PartialEq)]
pub struct Measured {
    /// Samples on the finding's lines.
    pub line_samples: u64,
    /// Samples inside the enclosing function.
    pub function_samples: u64,
    /// All samples of the profile.
    pub total: u64,
    /// The enclosing function's qualified name as the profile shows it (`Parser.push`),
    /// when the profile saw it.
    pub function: Option<String>,
}

impl CostIndex {
    /// Indexes a profile.
    pub fn new(profile: &Profile) -> Self {
        let mut functions: Vec<FnKey> = Vec::new();
        let mut fn_ids: HashMap<FnKey, u32> = HashMap::new();
        let frame_fn: Vec<u32> = profile
            .frames
            .iter()
            .map(|f| {
                let key = FnKey { qualname: f.function.clone(), def_line: f.def_line.max(0) };
                *fn_ids.entry(key.clone()).or_insert_with(|| {
                    functions.push(key);
                    functions.len() as u32 - 1
                })
            })
            .collect();
        let mut files: HashMap<String, FileStacks> = HashMap::new();
        for stack in &profile.stacks {
            let mut per_file: HashMap<&str, Vec<(u32, u32)>> = HashMap::new();
            for &fi in &stack.frames {
                if let Some(frame) = profile.frames.get(fi as usize)
                    && frame.line > 0
                {
                    per_file.entry(frame.file.as_str()).or_default().push((frame.line as u32, frame_fn[fi as usize]));
                }
            }
            for (file, lines) in per_file {
                files.entry(file.to_string()).or_default().push((stack.count, lines));
            }
        }
        let names = files.keys().cloned().collect();
        CostIndex { total: profile.total_samples(), files, names, functions }
    }

    /// All samples.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// The profile's key for a linted file: the same canonical path, else the longest
    /// matching path suffix (the profile may come from another checkout).
    pub fn file_key(&self, path: &Path) -> Option<&str> {
        let canon = path.canonicalize().ok();
        if let Some((key, _)) = canon.as_ref().and_then(|c| self.files.get_key_value(c.to_string_lossy().as_ref())) {
            return Some(key);
        }
        let full = canon.as_deref().unwrap_or(path);
        let ours: Vec<_> = full.components().rev().collect();
        let mut best: Option<(usize, &str)> = None;
        for name in &self.names {
            let theirs: Vec<_> = Path::new(name).components().rev().collect();
            let common = ours.iter().zip(&theirs).take_while(|(a, b)| a == b).count();
            if common >= 1 && best.is_none_or(|(n, _)| common > n) {
                best = Some((common, name));
            }
        }
        best.map(|(_, n)| n)
    }

    /// Samples on lines `lines` of `file`, and inside the enclosing function `function` (the
    /// module's own frames when `None`: top-level code).
    pub fn measure(&self, file: &str, lines: (u32, u32), function: Option<Enclosing<'_>>) -> Measured {
        let mut line_samples = 0;
        let mut function_samples = 0;
        // The matched function with the most samples names it.
        let mut seen: HashMap<u32, u64> = HashMap::new();
        for (count, frames) in self.files.get(file).map(Vec::as_slice).unwrap_or_default() {
            if frames.iter().any(|(l, _)| *l >= lines.0 && *l <= lines.1) {
                line_samples += count;
            }
            let hit = frames.iter().find(|(l, f)| {
                let f = &self.functions[*f as usize];
                match function {
                    Some(e) => e.runs(f, *l),
                    None => f.qualname == "<module>",
                }
            });
            if let Some((_, f)) = hit {
                function_samples += count;
                *seen.entry(*f).or_insert(0) += count;
            }
        }
        let function = seen
            .into_iter()
            .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
            .map(|(f, _)| self.functions[f as usize].qualname.clone());
        Measured { line_samples, function_samples, total: self.total, function }
    }
}

#[cfg(test)]
mod tests {
    use tachy_report::profile::{ProfileBuilder, ProfileMeta};

    use super::*;

    /// `TokenProxy.__next__` (def line 85) runs 20 of 100 samples at line 91; a property getter
    /// and setter share the qualified name `C.x`.
    fn profile(def_lines: bool) -> Profile {
        let mut b = ProfileBuilder::new();
        let mut frame = |name: &str, line: i32, def: i32| {
            let i = b.frame(name, "/src/driver.py", line, Some("driver.py"));
            if def_lines {
                b.set_def_line(i, def);
            }
            i
        };
        let module = frame("<module>", 200, 1);
        let next = frame("TokenProxy.__next__", 91, 85);
        let getter = frame("C.x", 120, 118);
        let setter = frame("C.x", 124, 122);
        let t = b.thread(1, 1, None, None);
        for i in 0..100u64 {
            let stack: &[u32] = match i % 10 {
                0 | 1 => &[module, next],
                2 => &[module, getter],
                3..=5 => &[module, setter],
                _ => &[module],
            };
            b.sample(t, stack, i);
        }
        b.finish(ProfileMeta::default())
    }

    #[test]
    fn methods_get_their_share_by_def_line() {
        for def_lines in [true, false] {
            let ix = CostIndex::new(&profile(def_lines));
            let next = Enclosing { name: "__next__", def_line: 85, lines: (85, 95) };
            let m = ix.measure("/src/driver.py", (91, 91), Some(next));
            assert_eq!((m.line_samples, m.function_samples), (20, 20), "def lines: {def_lines}");
            assert_eq!(m.function.as_deref(), Some("TokenProxy.__next__"));
            // The getter and the setter are two functions.
            let setter = Enclosing { name: "x", def_line: 122, lines: (121, 125) };
            assert_eq!(ix.measure("/src/driver.py", (124, 124), Some(setter)).function_samples, 30);
            let m = ix.measure("/src/driver.py", (200, 200), None);
            assert_eq!((m.function_samples, m.function.as_deref()), (100, Some("<module>")));
        }
        // With def lines, a wrong name or def line matches nothing.
        let ix = CostIndex::new(&profile(true));
        let other = Enclosing { name: "__iter__", def_line: 85, lines: (85, 95) };
        assert_eq!(ix.measure("/src/driver.py", (91, 91), Some(other)).function_samples, 0);
        let moved = Enclosing { name: "__next__", def_line: 80, lines: (80, 95) };
        let m = ix.measure("/src/driver.py", (91, 91), Some(moved));
        assert_eq!((m.function_samples, m.function), (0, None));
    }
}
