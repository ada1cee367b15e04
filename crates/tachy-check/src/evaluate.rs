//! Turning the JSON result of each tachy command into limit checks: one function per budget
//! kind, pure (a result in, checks out), so every rule is unit-tested without running anything.

/// A profile share limit: `parse <= 5%` or `self:json.dumps < 10%`.
#[derive(Debug, Clone, PartialEq)]
pub struct ShareLimit {
    /// The function as written: `name`, `module.name` or `file.py:name`.
    pub function: String,
    /// Self share instead of inclusive share.
    pub self_share: bool,
    /// `<=` or `<`.
    pub op: String,
    /// The limit in percent.
    pub percent: f64,
}

impl ShareLimit {
    /// Parses `FUNCTION <= PCT%` (also `<`, and a `self:` prefix).
    pub fn parse(s: &str) -> Result<ShareLimit, String> {
        let accepted = "accepted: 'FUNCTION <= 5%', 'FUNCTION < 5%', 'self:FUNCTION <= 5%' (FUNCTION is name, module.name or file.py:name)";
        let (lhs, op, rhs) = if let Some((l, r)) = s.split_once("<=") {
            (l, "<=", r)
        } else if let Some((l, r)) = s.split_once('<') {
            (l, "<", r)
        } else {
            return Err(format!("{s:?} is not a share limit; {accepted}"));
        };
        let lhs = lhs.trim();
        let (function, self_share) = match lhs.strip_prefix("self:") {
            Some(f) => (f.trim(), true),
            None => (lhs, false),
        };
        if function.is_empty() || function.contains(char::is_whitespace) {
            return Err(format!("{s:?}: the function name is missing or has spaces; {accepted}"));
        }
        let percent = tachy_report::units::parse_percent(rhs).map_err(|e| format!("{e}; {accepted}"))?;
        Ok(ShareLimit { function: function.to_string(), self_share, op: op.to_string(), percent })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn share_limits_parse() {
        let l = ShareLimit::parse("parse <= 5%").unwrap();
        assert_eq!((l.function.as_str(), l.self_share, l.op.as_str(), l.percent), ("parse", false, "<=", 5.0));
        let l = ShareLimit::parse("self:json.dumps<10%").unwrap();
        assert_eq!((l.function.as_str(), l.self_share, l.op.as_str()), ("json.dumps", true, "<"));
        assert!(ShareLimit::parse("f = 5%").is_err());
        assert!(ShareLimit::parse("f <= 5").is_err());
        assert!(ShareLimit::parse(" <= 5%").is_err());
    }
}
