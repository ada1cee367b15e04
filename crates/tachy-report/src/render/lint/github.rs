//! GitHub Actions workflow commands: one `::warning` annotation per finding and one `::error`
//! per file that could not be linted, shown on the pull request's diff.

use std::fmt::Write;

use crate::lint::LintReport;

fn escape_data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// One annotation line per finding and file error.
pub fn render(report: &LintReport) -> String {
    let mut out = String::new();
    for f in &report.findings {
        let _ = writeln!(
            out,
            "::warning title={},file={},line={},col={},endLine={},endColumn={}::{}",
            escape_property(&format!("tachy ({})", f.code)),
            escape_property(&f.path),
            f.location.line,
            f.location.column,
            f.end_location.line,
            f.end_location.column,
            escape_data(&format!("{}:{}:{}: {} {}", f.path, f.location.line, f.location.column, f.code, f.message))
        );
    }
    for e in &report.errors {
        let loc = e.location.unwrap_or_default();
        let _ = writeln!(
            out,
            "::error title=tachy,file={},line={},col={}::{}",
            escape_property(&e.path),
            loc.line.max(1),
            loc.column.max(1),
            escape_data(&e.message)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn annotations() {
        let out = super::render(&super::super::fixture());
        insta::assert_snapshot!(out);
        assert!(out.lines().all(|l| l.starts_with("::warning ") || l.starts_with("::error ")));
        assert_eq!(super::escape_property("a,b:c%"), "a%2Cb%3Ac%25");
    }
}
