//! Applying fixes: edits of non-overlapping fixes are applied in one pass; a fixed file that
//! no longer parses is rejected (the caller keeps the original).

use crate::checker::Fix;

/// Applies the fixes to `source`, skipping any that overlaps one already applied. Returns the
/// new text and how many fixes were applied.
pub fn apply(source: &str, fixes: &[&Fix]) -> (String, usize) {
    let mut order: Vec<&Fix> = fixes.to_vec();
    order.sort_by_key(|f| f.edits.first().map(|e| (e.range.start(), e.range.end())));
    let mut out = String::with_capacity(source.len());
    let mut last = 0usize;
    let mut applied = 0;
    for fix in order {
        let Some(first) = fix.edits.first() else { continue };
        if usize::from(first.range.start()) < last {
            continue;
        }
        for e in &fix.edits {
            let (s, t) = (usize::from(e.range.start()), usize::from(e.range.end()));
            out.push_str(&source[last..s]);
            out.push_str(&e.content);
            last = t;
        }
        applied += 1;
    }
    out.push_str(&source[last..]);
    (out, applied)
}

/// Whether `source` parses without syntax errors.
pub fn parses(source: &str) -> bool {
    ruff_python_parser::parse_module(source).is_ok()
}

/// A unified diff of a file before and after its fixes.
pub fn unified_diff(path: &str, before: &str, after: &str) -> String {
    similar::TextDiff::from_lines(before, after)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{path}"), &format!("b/{path}"))
        .to_string()
}
