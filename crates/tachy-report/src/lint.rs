//! The report of `tachy lint` (schema `tachy-lint/1`): findings with locations, fixes and
//! measured CPU cost, files that could not be linted, and per-rule statistics.
//!
//! `docs/lint-json.md` documents every field. Source snippets used by the text renderer are
//! carried beside each finding but never serialised.

use serde::{Deserialize, Serialize};

/// The value of the `schema` field of a lint report.
pub const LINT_SCHEMA: &str = "tachy-lint/1";

/// Everything `tachy lint` found.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct LintReport {
    /// Always [`LINT_SCHEMA`].
    pub schema: String,
    /// The tachy version that wrote it.
    pub tachy_version: String,
    /// Python files linted (parsed, with or without syntax errors).
    pub files: usize,
    /// Source lines linted.
    pub lines: usize,
    /// Findings that remain (after `--fix`), sorted by path and position, or by measured
    /// cost when a profile was given.
    pub findings: Vec<Finding>,
    /// Files that could not be linted completely (syntax errors, unreadable, not UTF-8).
    pub errors: Vec<FileError>,
    /// Fixes applied by `--fix`.
    pub fixed: usize,
    /// Findings hidden by `--min-share` (colder than the threshold).
    pub hidden_cold: usize,
    /// The profile that ranked the findings, when one was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<ProfileSource>,
}

impl LintReport {
    /// Findings per rule code, most frequent first (then by code).
    pub fn statistics(&self) -> Vec<RuleCount> {
        let mut out: Vec<RuleCount> = Vec::new();
        for f in &self.findings {
            let fixable = usize::from(f.safe_fix());
            match out.iter_mut().find(|r| r.code == f.code) {
                Some(r) => {
                    r.count += 1;
                    r.fixable += fixable;
                }
                None => out.push(RuleCount { code: f.code.clone(), name: f.name.clone(), count: 1, fixable }),
            }
        }
        out.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.code.cmp(&b.code)));
        out
    }

    /// Whether the gate fails: any finding or any file that could not be linted.
    pub fn failed(&self) -> bool {
        !self.findings.is_empty() || !self.errors.is_empty()
    }
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Rule code, e.g. `TA101`.
    pub code: String,
    /// Rule name, e.g. `string-concat-in-loop`.
    pub name: String,
    /// What is wrong here.
    pub message: String,
    /// How to fix it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// File path as given (relative to the working directory when under it).
    pub path: String,
    /// Start (1-based line and column).
    pub location: Location,
    /// End (exclusive column).
    pub end_location: Location,
    /// The fix, when one is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<FixInfo>,
    /// Measured CPU cost, when a profile was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<Cost>,
    /// Source lines around the finding, for the code frame (not serialised).
    #[serde(skip)]
    pub snippet: Option<Snippet>,
}

impl Finding {
    /// Whether `--fix` applies this finding's fix (it has one, and it is safe).
    pub fn safe_fix(&self) -> bool {
        self.fix.as_ref().is_some_and(|x| x.applicability == Applicability::Safe)
    }
}

/// A 1-based line and column (columns count characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Serialize, Deserialize)]
pub struct Location {
    /// Line, from 1.
    pub line: usize,
    /// Column, from 1.
    pub column: usize,
}

/// Source lines for a code frame.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Snippet {
    /// Line number of `lines[0]`.
    pub first_line: usize,
    /// The lines, without line endings.
    pub lines: Vec<String>,
}

/// Whether a fix may be applied without review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Applicability {
    /// Keeps the program's meaning: applied by `--fix`.
    Safe,
    /// May change behaviour in corner cases: applied only with `--unsafe-fixes`.
    Unsafe,
}

/// A fix: a title and the edits that make it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FixInfo {
    /// What the fix does.
    pub message: String,
    /// Safe or unsafe.
    pub applicability: Applicability,
    /// Replacements, in source order, not overlapping.
    pub edits: Vec<EditInfo>,
}

/// One replacement of a source range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EditInfo {
    /// The new text.
    pub content: String,
    /// Start of the replaced range.
    pub location: Location,
    /// End of the replaced range (exclusive).
    pub end_location: Location,
}

/// CPU time measured by a profile on a finding's lines and function.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cost {
    /// Share (0-1) of all samples whose stack ran one of the finding's lines.
    pub line_share: f64,
    /// Share (0-1) of all samples whose stack was inside the enclosing function.
    pub function_share: f64,
    /// The enclosing function (`<module>` at top level).
    pub function: String,
    /// Samples behind `line_share`.
    pub line_samples: u64,
}

/// The profile used for ranking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileSource {
    /// Path of the saved profile.
    pub path: String,
    /// Samples in it.
    pub samples: u64,
    /// Findings whose file appears in the profile.
    pub matched_findings: usize,
}

/// A file that could not be linted completely.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileError {
    /// File path.
    pub path: String,
    /// What kind of problem.
    pub kind: FileErrorKind,
    /// One line saying what is wrong.
    pub message: String,
    /// Where, for syntax errors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
}

/// Kinds of file problems.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FileErrorKind {
    /// The file does not parse (other rules still ran on what parsed).
    SyntaxError,
    /// The file could not be read (permissions, vanished, symlink loop).
    Io,
    /// The file is not valid UTF-8.
    Encoding,
    /// An expression nests too deeply to analyse (e.g. a generated `1+1+...` of thousands of
    /// terms); the file is skipped and the rest is linted.
    TooComplex,
}

/// How many findings one rule produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleCount {
    /// Rule code.
    pub code: String,
    /// Rule name.
    pub name: String,
    /// Findings.
    pub count: usize,
    /// Findings with a safe fix.
    pub fixable: usize,
}
