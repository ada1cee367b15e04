//! `tachy lint`: a linter for Python performance anti-patterns, ranked by measured CPU cost.
//!
//! Data flow: [`discover`] walks the paths (`.gitignore`-aware, virtualenvs and build output
//! skipped); every file is parsed with ruff's parser and checked in parallel (rayon) by one
//! [`checker::Checker`] walk that dispatches nodes to the [`rules`] that asked for their kind;
//! the per-function facts of all files form a [`project::ProjectIndex`] that settles the calls
//! needing the whole project (blocking helpers called from coroutines, thread targets);
//! `# noqa` and per-file ignores filter; `--fix` applies safe fixes (re-parsed, and rejected
//! if the result does not parse); a saved profile ([`cost`]) adds the CPU share of each
//! finding and sorts by it. The result is a [`tachy_report::lint::LintReport`].
//!
//! This crate never prints or exits.

pub mod checker;
pub mod config;
pub mod cost;
pub mod discover;
pub mod effects;
pub mod error;
pub mod fix;
pub mod noqa;
pub mod project;
pub mod registry;
pub mod rules;
pub mod semantic;

use std::path::{Path, PathBuf};

use rayon::prelude::*;
use ruff_text_size::TextSize;
use tachy_report::lint::{
    Applicability, Cost, EditInfo, FileError, FileErrorKind, Finding, FixInfo, LINT_SCHEMA, LintReport, Location,
    ProfileSource, Snippet,
};

pub use error::LintError;
pub use registry::{RULES, Rule, RuleSet};

use checker::{Checker, Diagnostic};
use discover::{Excludes, SourceFile};
use project::{DeferredCall, FileFacts, ProjectIndex};

/// What to do with fixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FixMode {
    /// Report them only.
    #[default]
    Report,
    /// Write the fixed files.
    Apply,
    /// Compute a diff of the fixes without writing.
    Diff,
}

/// Everything a lint run needs.
#[derive(Debug, Clone, Default)]
pub struct LintSettings {
    /// Files and folders to lint.
    pub paths: Vec<PathBuf>,
    /// Enabled rules.
    pub rules: RuleSet,
    /// Extra exclude globs.
    pub exclude: Vec<String>,
    /// (glob, rules disabled) for matching files.
    pub per_file_ignores: Vec<(String, RuleSet)>,
    /// Fix mode.
    pub fix: FixMode,
    /// Apply unsafe fixes too.
    pub unsafe_fixes: bool,
    /// A saved profile to rank findings with.
    pub profile: Option<(PathBuf, tachy_report::Profile)>,
    /// Hide findings whose line share is below this fraction (needs a profile).
    pub min_share: Option<f64>,
}

/// A lint run's result.
#[derive(Debug, Clone, Default)]
pub struct LintOutcome {
    /// The report.
    pub report: LintReport,
    /// Unified diffs of the fixes (with [`FixMode::Diff`]).
    pub diff: String,
}

/// Byte offsets of line starts, for 1-based line and column locations.
pub struct LineIndex {
    starts: Vec<u32>,
}

impl LineIndex {
    /// Indexes `source`.
    pub fn new(source: &str) -> Self {
        let mut starts = Vec::with_capacity(source.len() / 32 + 1);
        starts.push(0u32);
        starts.extend(memchr::memchr_iter(b'\n', source.as_bytes()).map(|i| i as u32 + 1));
        LineIndex { starts }
    }

    /// Number of lines.
    pub fn lines(&self) -> usize {
        self.starts.len()
    }

    /// 1-based line of an offset.
    pub fn line(&self, offset: TextSize) -> usize {
        self.starts.partition_point(|&s| s <= offset.to_u32())
    }

    /// 1-based line and character column of an offset.
    pub fn location(&self, source: &str, offset: TextSize) -> Location {
        let line = self.line(offset);
        let start = self.starts[line - 1] as usize;
        let end = (offset.to_u32() as usize).min(source.len());
        let column = source.get(start..end).map_or(end - start, |s| s.chars().count()) + 1;
        Location { line, column }
    }

    /// The text of 1-based line `n`, without its line ending.
    pub fn line_text<'s>(&self, source: &'s str, n: usize) -> &'s str {
        let start = self.starts[n - 1] as usize;
        let end = self.starts.get(n).map_or(source.len(), |&e| e as usize);
        source[start..end].trim_end_matches(['\n', '\r'])
    }
}

/// The checked state of one file.
struct Checked {
    file: SourceFile,
    source: String,
    diagnostics: Vec<Diagnostic>,
    deferred: Vec<DeferredCall>,
    facts: FileFacts,
    syntax_error: Option<(TextSize, String)>,
}

/// What checking one source text gives.
pub struct FileCheck {
    /// Findings settled within the file.
    pub diagnostics: Vec<Diagnostic>,
    /// Facts of its functions, for the project pass.
    pub facts: FileFacts,
    /// Calls whose verdict needs the project pass.
    pub deferred: Vec<DeferredCall>,
    /// The first syntax error: its offset and message.
    pub syntax_error: Option<(TextSize, String)>,
}

/// The deepest expression nesting analysed. Deeper expressions (generated code such as a
/// `1+1+...` chain of 20,000 terms) would exhaust the stack of the recursive walks; such a file
/// is reported as not lintable and the rest of the project is linted.
pub const MAX_NESTING: usize = 5_000;

/// Stack size of the threads that parse and check files: deep but legal code (thousands of
/// nested brackets or chained operators below [`MAX_NESTING`]) needs more than rayon's 2 MiB.
const CHECK_STACK: usize = 256 << 20;

/// An upper bound of the expression nesting of each logical line, from the tokens alone (no
/// tree is built, so nothing recursive runs). Within a bracket level, every operator, keyword
/// operator and attribute dot since the last separator (`,` `:` `=`) can add a level, and an
/// opening bracket adds one to what surrounds it: `1+1+...+1` nests as deep as it has terms,
/// a flat list `[-1, -2, ...]` of any length does not. Returns the largest over the file.
pub fn nesting_bound(source: &str) -> usize {
    use ruff_python_ast::token::TokenKind as T;
    let mut lexer = ruff_python_parser::lexer::lex(source, ruff_python_parser::Mode::Module);
    // (depth at the level's start, depth now) per open bracket level.
    let mut levels: Vec<(usize, usize)> = vec![(0, 0)];
    let mut max = 0usize;
    loop {
        let kind = lexer.next_token();
        let top = levels.len() - 1;
        match kind {
            T::EndOfFile => break,
            T::Newline | T::Semi => levels = vec![(0, 0)],
            T::Lpar | T::Lsqb | T::Lbrace => {
                let d = levels[top].1 + 1;
                levels.push((d, d));
                max = max.max(d);
            }
            T::Rpar | T::Rsqb | T::Rbrace if levels.len() > 1 => {
                levels.pop();
            }
            T::Comma | T::Colon | T::Equal | T::ColonEqual | T::Rarrow => levels[top].1 = levels[top].0,
            k if k.is_operator() || k.is_keyword() => {
                levels[top].1 += 1;
                max = max.max(levels[top].1);
            }
            _ => {}
        }
    }
    max
}

/// Checks one source text (the unit the tests use).
pub fn check_source(source: &str, module: &str, is_package: bool, rules: RuleSet) -> FileCheck {
    let parsed = ruff_python_parser::parse_unchecked_source(source, ruff_python_ast::PySourceType::Python);
    let syntax_error = parsed.errors().first().map(|e| (e.location.start(), e.error.to_string()));
    let mut checker = Checker::new(source, module, is_package, rules);
    checker.check_module(parsed.suite());
    let Checker { diagnostics, facts, deferred, .. } = checker;
    FileCheck { diagnostics, facts, deferred, syntax_error }
}

/// Drops diagnostics of rules in `off` (per-file ignores) and those silenced by `# noqa`.
fn retain_unsuppressed(diags: &mut Vec<Diagnostic>, source: &str, li: &LineIndex, off: RuleSet) {
    diags.retain(|d| {
        !off.contains(d.rule) && !noqa::suppresses(li.line_text(source, li.line(d.range.start())), d.rule.code())
    });
}

/// Checks a file's (fixed) text again against the project index: its findings, settled and
/// filtered like the first pass.
fn recheck(text: &str, file: &SourceFile, rules: RuleSet, index: &ProjectIndex, off: RuleSet) -> Vec<Diagnostic> {
    let FileCheck { diagnostics: mut d, deferred, .. } = check_source(text, &file.module, file.is_package, rules);
    d.extend(deferred.iter().filter_map(|x| rules::settle(x, index)));
    retain_unsuppressed(&mut d, text, &LineIndex::new(text), off);
    d
}

/// Lints `source` alone (one-file project), with deferred calls settled: what rule tests use.
pub fn lint_source(source: &str, rules: RuleSet) -> Vec<Diagnostic> {
    let FileCheck { diagnostics: mut diags, facts, deferred, .. } = check_source(source, "module", false, rules);
    let index = ProjectIndex::new([facts]);
    diags.extend(deferred.iter().filter_map(|d| rules::settle(d, &index)));
    diags.sort_by_key(|d| (d.range.start(), d.rule));
    retain_unsuppressed(&mut diags, source, &LineIndex::new(source), RuleSet::empty());
    diags
}

/// Runs the linter.
pub fn lint(settings: &LintSettings) -> Result<LintOutcome, LintError> {
    let excludes = Excludes::new(&settings.exclude).map_err(LintError::BadGlob)?;
    let (files, problems) = discover::discover(&settings.paths, &excludes)?;
    let mut errors: Vec<FileError> = problems
        .into_iter()
        .map(|p| FileError { path: display(&p.path), kind: FileErrorKind::Io, message: p.message, location: None })
        .collect();

    let rules = settings.rules;
    let pool = rayon::ThreadPoolBuilder::new()
        .stack_size(CHECK_STACK)
        .build()
        .map_err(|e| LintError::Threads(e.to_string()))?;
    let results: Vec<Result<Checked, FileError>> = pool.install(|| files
        .into_par_iter()
        .map(|file| {
            let bytes = std::fs::read(&file.path).map_err(|e| FileError {
                path: display(&file.path),
                kind: FileErrorKind::Io,
                message: format!("cannot read: {e}"),
                location: None,
            })?;
            let source = String::from_utf8(bytes).map_err(|e| FileError {
                path: display(&file.path),
                kind: FileErrorKind::Encoding,
                message: format!(
                    "not valid UTF-8 (byte {}): save the file as UTF-8 to lint it",
                    e.utf8_error().valid_up_to()
                ),
                location: None,
            })?;
            let depth = nesting_bound(&source);
            if depth > MAX_NESTING {
                return Err(FileError {
                    path: display(&file.path),
                    kind: FileErrorKind::TooComplex,
                    message: format!(
                        "not lintable: a statement chains or nests up to {depth} operators and brackets (the limit is {MAX_NESTING}); the rest was linted"
                    ),
                    location: None,
                });
            }
            let FileCheck { diagnostics, facts, deferred, syntax_error } =
                check_source(&source, &file.module, file.is_package, rules);
            Ok(Checked { file, source, diagnostics, deferred, facts, syntax_error })
        })
        .collect());

    let mut checked = Vec::with_capacity(results.len());
    for r in results {
        match r {
            Ok(c) => checked.push(c),
            Err(e) => errors.push(e),
        }
    }
    let index = ProjectIndex::new(checked.iter_mut().map(|c| std::mem::take(&mut c.facts)));
    for c in &mut checked {
        let settled: Vec<Diagnostic> = c.deferred.iter().filter_map(|d| rules::settle(d, &index)).collect();
        c.diagnostics.extend(settled);
    }

    let ignores: Vec<(Excludes, RuleSet)> = settings
        .per_file_ignores
        .iter()
        .map(|(glob, set)| Excludes::new(std::slice::from_ref(glob)).map(|e| (e, *set)))
        .collect::<Result<_, _>>()
        .map_err(LintError::BadGlob)?;

    let cost = settings.profile.as_ref().map(|(_, p)| cost::CostIndex::new(p));
    let mut report = LintReport {
        schema: LINT_SCHEMA.to_string(),
        tachy_version: env!("CARGO_PKG_VERSION").to_string(),
        ..Default::default()
    };
    let mut diff = String::new();

    for c in &mut checked {
        let path = display(&c.file.path);
        let mut off = RuleSet::empty();
        for (ex, set) in &ignores {
            if ex.matches(&c.file.path) {
                for r in set.iter() {
                    off.insert(r);
                }
            }
        }
        let mut line_index = LineIndex::new(&c.source);
        retain_unsuppressed(&mut c.diagnostics, &c.source, &line_index, off);

        if settings.fix != FixMode::Report && c.syntax_error.is_none() {
            let (fixed, applied, remaining) =
                fix_file(&c.source, &c.diagnostics, settings.unsafe_fixes, &c.file, rules, &index, off);
            if applied > 0 {
                match settings.fix {
                    FixMode::Apply => {
                        std::fs::write(&c.file.path, &fixed)
                            .map_err(|e| LintError::Write { path: c.file.path.clone(), source: e })?;
                        report.fixed += applied;
                        c.source = fixed;
                        line_index = LineIndex::new(&c.source);
                        c.diagnostics = remaining;
                    }
                    FixMode::Diff => {
                        diff.push_str(&fix::unified_diff(&path, &c.source, &fixed));
                        report.fixed += applied;
                    }
                    FixMode::Report => {}
                }
            }
        }

        report.files += 1;
        report.lines += line_index.lines();
        if let Some((at, msg)) = &c.syntax_error {
            report.errors.push(FileError {
                path: path.clone(),
                kind: FileErrorKind::SyntaxError,
                message: format!("syntax error: {msg}"),
                location: Some(line_index.location(&c.source, *at)),
            });
        }
        c.diagnostics.sort_by_key(|d| (d.range.start(), d.rule));
        c.diagnostics.dedup_by(|a, b| a.rule == b.rule && a.range == b.range);
        let key = cost.as_ref().and_then(|ci| ci.file_key(&c.file.path).map(str::to_string));
        for d in &c.diagnostics {
            let mut finding = to_finding(d, &path, &c.source, &line_index);
            if let Some(ci) = &cost {
                // The function as the profile names it: `Class.method` (the module left out).
                let mut function = d.function.as_ref().map_or_else(
                    || "<module>".to_string(),
                    |f| {
                        let q = f.qualname.as_str();
                        q.strip_prefix(c.file.module.as_str())
                            .and_then(|r| r.strip_prefix('.'))
                            .unwrap_or(q)
                            .to_string()
                    },
                );
                let (mut line_samples, mut function_samples) = (0, 0);
                if let Some(key) = &key {
                    let lines = (line_index.line(d.range.start()) as u32, line_index.line(d.range.end()) as u32);
                    let enclosing = d.function.as_ref().map(|f| cost::Enclosing {
                        name: f.qualname.rsplit('.').next().unwrap_or(&f.qualname),
                        def_line: line_index.line(f.name_at) as u32,
                        lines: (line_index.line(f.range.start()) as u32, line_index.line(f.range.end()) as u32),
                    });
                    let m = ci.measure(key, lines, enclosing);
                    (line_samples, function_samples) = (m.line_samples, m.function_samples);
                    function = m.function.unwrap_or(function);
                }
                let total = ci.total().max(1) as f64;
                finding.cost = Some(Cost {
                    line_share: line_samples as f64 / total,
                    function_share: function_samples as f64 / total,
                    function,
                    line_samples,
                });
            }
            report.findings.push(finding);
        }
    }

    if let Some((path, _)) = &settings.profile {
        let ci = cost.as_ref().expect("index built with the profile");
        let matched = report
            .findings
            .iter()
            .filter(|f| f.cost.as_ref().is_some_and(|c| c.function_share > 0.0 || c.line_share > 0.0))
            .count();
        report.profile = Some(ProfileSource { path: display(path), samples: ci.total(), matched_findings: matched });
        if let Some(min) = settings.min_share {
            let before = report.findings.len();
            report.findings.retain(|f| f.cost.as_ref().is_some_and(|c| c.line_share >= min));
            report.hidden_cold = before - report.findings.len();
        }
        report.findings.sort_by(|a, b| {
            let (ca, cb) = (a.cost.as_ref().expect("set above"), b.cost.as_ref().expect("set above"));
            cb.line_share
                .total_cmp(&ca.line_share)
                .then(cb.function_share.total_cmp(&ca.function_share))
                .then_with(|| a.path.cmp(&b.path))
                .then(a.location.cmp(&b.location))
        });
    }
    report.errors.extend(errors);
    report.errors.sort_by(|a, b| a.path.cmp(&b.path).then(a.location.cmp(&b.location)));
    Ok(LintOutcome { report, diff })
}

/// Applies fixes to one file until none is left (at most 10 rounds); never returns a text that
/// does not parse. Returns the text, the fixes applied and the findings that remain in it.
fn fix_file(
    source: &str,
    diags: &[Diagnostic],
    unsafe_fixes: bool,
    file: &SourceFile,
    rules: RuleSet,
    index: &ProjectIndex,
    off: RuleSet,
) -> (String, usize, Vec<Diagnostic>) {
    let mut text = source.to_string();
    let mut total = 0;
    let mut current: Vec<Diagnostic> = diags.to_vec();
    for _ in 0..10 {
        let fixes: Vec<&checker::Fix> =
            current.iter().filter_map(|d| d.fix.as_ref()).filter(|f| f.safe || unsafe_fixes).collect();
        if fixes.is_empty() {
            break;
        }
        let (next, applied) = fix::apply(&text, &fixes);
        if applied == 0 || next == text || !fix::parses(&next) {
            break;
        }
        text = next;
        total += applied;
        current = recheck(&text, file, rules, index, off);
    }
    (text, total, current)
}

fn to_finding(d: &Diagnostic, path: &str, source: &str, li: &LineIndex) -> Finding {
    let spec = d.rule.spec();
    let location = li.location(source, d.range.start());
    let end_location = li.location(source, d.range.end());
    let last = end_location.line.min(location.line + 9);
    let snippet = Snippet {
        first_line: location.line,
        lines: (location.line..=last).map(|n| li.line_text(source, n).to_string()).collect(),
    };
    let fix = d.fix.as_ref().map(|f| FixInfo {
        message: f.message.clone(),
        applicability: if f.safe { Applicability::Safe } else { Applicability::Unsafe },
        edits: f
            .edits
            .iter()
            .map(|e| EditInfo {
                content: e.content.clone(),
                location: li.location(source, e.range.start()),
                end_location: li.location(source, e.range.end()),
            })
            .collect(),
    });
    Finding {
        code: spec.code.to_string(),
        name: spec.name.to_string(),
        message: d.message.clone(),
        help: d.help.clone(),
        path: path.to_string(),
        location,
        end_location,
        fix,
        cost: None,
        snippet: Some(snippet),
    }
}

fn display(path: &Path) -> String {
    let p = path.strip_prefix("./").unwrap_or(path);
    p.to_string_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_index_locations() {
        let src = "a = 1\nbé = 2\n";
        let li = LineIndex::new(src);
        assert_eq!(li.location(src, TextSize::new(0)), Location { line: 1, column: 1 });
        assert_eq!(li.location(src, TextSize::new(9)), Location { line: 2, column: 3 });
        assert_eq!(li.line_text(src, 2), "bé = 2");
    }
}

#[cfg(test)]
mod nesting_tests {
    use super::*;

    #[test]
    fn nesting_counts_chains_and_brackets_not_flat_lists() {
        let chain = format!("x = {}1\n", "1+".repeat(9_999));
        assert!(nesting_bound(&chain) >= 9_999);
        let flat = format!("x = [{}]\n", (0..50_000).map(|i| format!("-{i}")).collect::<Vec<_>>().join(", "));
        assert!(nesting_bound(&flat) < 10, "{}", nesting_bound(&flat));
        let parens = format!("x = {}1{}\n", "(".repeat(300), ")".repeat(300));
        assert!((300..310).contains(&nesting_bound(&parens)));
        assert!(nesting_bound("def f(a, b=1):\n    return a.b.c + b\n") < 10);
    }
}
