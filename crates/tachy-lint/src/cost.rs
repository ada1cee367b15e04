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

/// Samples of one profile, indexed by source file.
pub struct CostIndex {
    total: u64,
    /// File key -> stacks with at least one frame in that file: (count, frames in the file).
    files: HashMap<String, FileStacks>,
    /// File key -> the full path as written in the profile.
    names: Vec<String>,
    /// Interned function names.
    functions: Vec<String>,
}

/// What one finding cost.
#[derive(Debug, Clone, PartialEq)]
pub struct Measured {
    /// Samples on the finding's lines.
    pub line_samples: u64,
    /// Samples inside the enclosing function's lines.
    pub function_samples: u64,
    /// All samples of the profile.
    pub total: u64,
}

impl CostIndex {
    /// Indexes a profile.
    pub fn new(profile: &Profile) -> Self {
        let mut functions: Vec<String> = Vec::new();
        let mut fn_ids: HashMap<&str, u32> = HashMap::new();
        for f in &profile.frames {
            if !fn_ids.contains_key(f.function.as_str()) {
                fn_ids.insert(f.function.as_str(), functions.len() as u32);
                functions.push(f.function.clone());
            }
        }
        let mut files: HashMap<String, FileStacks> = HashMap::new();
        for stack in &profile.stacks {
            let mut per_file: HashMap<&str, Vec<(u32, u32)>> = HashMap::new();
            for &fi in &stack.frames {
                if let Some(frame) = profile.frames.get(fi as usize)
                    && frame.line > 0
                {
                    per_file
                        .entry(frame.file.as_str())
                        .or_default()
                        .push((frame.line as u32, fn_ids[frame.function.as_str()]));
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

    /// Samples on lines `lines` of `file`, and inside the function `function` (by name) within
    /// `function_lines`.
    pub fn measure(&self, file: &str, lines: (u32, u32), function: Option<(&str, (u32, u32))>) -> Measured {
        let mut line_samples = 0;
        let mut function_samples = 0;
        let fn_id = function.and_then(|(name, _)| self.functions.iter().position(|f| f == name)).map(|i| i as u32);
        if let Some(stacks) = self.files.get(file) {
            for (count, frames) in stacks {
                if frames.iter().any(|(l, _)| *l >= lines.0 && *l <= lines.1) {
                    line_samples += count;
                }
                if let (Some(id), Some((_, (a, b)))) = (fn_id, function)
                    && frames.iter().any(|(l, f)| *f == id && *l >= a && *l <= b)
                {
                    function_samples += count;
                }
            }
        }
        if function.is_none() {
            // Top-level code: the module's own frames.
            function_samples = self
                .files
                .get(file)
                .map(|s| {
                    s.iter()
                        .filter(|(_, fr)| fr.iter().any(|(_, f)| self.functions[*f as usize] == "<module>"))
                        .map(|(c, _)| c)
                        .sum()
                })
                .unwrap_or(0);
        }
        Measured { line_samples, function_samples, total: self.total }
    }
}
