//! The lint report as JSON (schema `tachy-lint/1`, documented in `docs/lint-json.md`).

use crate::lint::LintReport;

/// Pretty JSON with a trailing newline.
pub fn render(report: &LintReport) -> String {
    let mut s = serde_json::to_string_pretty(report).expect("a lint report always serialises");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn round_trips() {
        let r = super::super::fixture();
        let text = super::render(&r);
        let back: crate::lint::LintReport = serde_json::from_str(&text).unwrap();
        assert_eq!(back.findings.len(), 2);
        assert_eq!(back.findings[0].code, "TA101");
        assert!(back.findings[0].snippet.is_none(), "snippets are not serialised");
        insta::assert_snapshot!(text);
    }
}
