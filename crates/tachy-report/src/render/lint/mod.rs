//! Renderers of a lint report, one per `--output-format`: [`text`] (ruff-like code frames),
//! [`json`] (schema `tachy-lint/1`), [`sarif`] (SARIF 2.1.0 for GitHub code scanning) and
//! [`github`] (GitHub Actions workflow annotations); [`text::statistics`] for `--statistics`.

pub mod github;
pub mod json;
pub mod sarif;
pub mod text;

/// Output formats of `tachy lint`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum LintFormat {
    /// path:line:col, code, message, code frame, help (like ruff).
    #[default]
    Text,
    /// The report as JSON (schema tachy-lint/1).
    Json,
    /// SARIF 2.1.0 (GitHub code scanning).
    Sarif,
    /// GitHub Actions annotations.
    Github,
}

/// What a renderer needs to know about a rule.
#[derive(Debug, Clone, Copy)]
pub struct RuleMeta<'a> {
    /// Code.
    pub code: &'a str,
    /// Name.
    pub name: &'a str,
    /// One-line summary.
    pub summary: &'a str,
}

/// Renders a lint report in `format`.
pub fn render(report: &crate::lint::LintReport, format: LintFormat, rules: &[RuleMeta<'_>]) -> String {
    match format {
        LintFormat::Text => text::render(report),
        LintFormat::Json => json::render(report),
        LintFormat::Sarif => sarif::render(report, rules),
        LintFormat::Github => github::render(report),
    }
}

/// A small deterministic report for the renderers' tests.
#[cfg(test)]
pub(crate) fn fixture() -> crate::lint::LintReport {
    use crate::lint::*;
    LintReport {
        schema: LINT_SCHEMA.into(),
        tachy_version: "0.0.0".into(),
        files: 2,
        lines: 40,
        findings: vec![
            Finding {
                code: "TA101".into(),
                name: "string-concat-in-loop".into(),
                message: "String `out` built with `+=` in a loop: each step may copy the whole string".into(),
                help: Some("append the pieces to a list and `\"\".join()` them once".into()),
                path: "app/render.py".into(),
                location: Location { line: 4, column: 9 },
                end_location: Location { line: 4, column: 33 },
                fix: None,
                cost: Some(Cost {
                    line_share: 0.42,
                    function_share: 0.55,
                    function: "render".into(),
                    line_samples: 420,
                }),
                snippet: Some(Snippet { first_line: 4, lines: vec!["        out += f\"<td>{row}</td>\"".into()] }),
            },
            Finding {
                code: "TA103".into(),
                name: "comprehension-in-reducer".into(),
                message: "`any()` over a list comprehension builds the whole list, 50% done, before it can stop".into(),
                help: None,
                path: "app/util.py".into(),
                location: Location { line: 7, column: 12 },
                end_location: Location { line: 8, column: 30 },
                fix: Some(FixInfo {
                    message: "Use a generator".into(),
                    applicability: Applicability::Safe,
                    edits: vec![EditInfo {
                        content: "".into(),
                        location: Location { line: 7, column: 16 },
                        end_location: Location { line: 7, column: 17 },
                    }],
                }),
                cost: Some(Cost { line_share: 0.0, function_share: 0.01, function: "check".into(), line_samples: 0 }),
                snippet: Some(Snippet {
                    first_line: 7,
                    lines: vec!["    return any([x > 0 for x in".into(), "               values])".into()],
                }),
            },
        ],
        errors: vec![FileError {
            path: "app/broken.py".into(),
            kind: FileErrorKind::SyntaxError,
            message: "syntax error: Expected ')', found newline".into(),
            location: Some(Location { line: 3, column: 10 }),
        }],
        fixed: 0,
        hidden_cold: 1,
        profile: Some(ProfileSource { path: "app.json".into(), samples: 1000, matched_findings: 2 }),
    }
}
