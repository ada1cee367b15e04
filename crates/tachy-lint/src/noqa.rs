//! `# noqa` comments: `# noqa` silences every rule on its line, `# noqa: TA101, TA2`
//! silences the codes (or prefixes) listed.

/// Whether a `# noqa` comment on `line` silences `code`.
pub fn suppresses(line: &str, code: &str) -> bool {
    let Some(hash) = line.find('#') else { return false };
    let comment = &line[hash..];
    let lower = comment.to_ascii_lowercase();
    let Some(pos) = lower.find("noqa") else { return false };
    // `# noqa` must be the start of a comment (`# noqa`, `#noqa`, `# x  # noqa`).
    let before = comment[..pos].trim_end();
    if !before.ends_with('#') {
        return false;
    }
    let rest = &comment[pos + 4..];
    let Some(list) = rest.strip_prefix(':') else {
        // Bare `# noqa` (followed by nothing that lists codes).
        return true;
    };
    list.split([',', ' ', '\t'])
        .map(str::trim)
        .take_while(|c| !c.starts_with('#'))
        .filter(|c| !c.is_empty())
        .any(|c| code.len() >= c.len() && code[..c.len()].eq_ignore_ascii_case(c))
}

#[cfg(test)]
mod tests {
    use super::suppresses;

    #[test]
    fn forms() {
        assert!(suppresses("s += x  # noqa", "TA101"));
        assert!(suppresses("s += x  # noqa: TA101", "TA101"));
        assert!(suppresses("s += x  #noqa:TA102,TA101", "TA101"));
        assert!(suppresses("s += x  # noqa: TA1", "TA101"));
        assert!(!suppresses("s += x  # noqa: TA102", "TA101"));
        assert!(!suppresses("s += x", "TA101"));
        assert!(!suppresses("s += 'noqa'", "TA101"));
        assert!(suppresses("x = 1  # type: ignore  # noqa: TA101", "TA101"));
    }
}
