//! TA101 `string-concat-in-loop`: a string built with `s += ...` or `s = s + ...` inside a loop.
//!
//! **Why it is slow**: strings are immutable, so each `+=` may copy everything built so far:
//! quadratic in the final length. CPython sometimes resizes in place when the string has a
//! single reference, but that trick fails as soon as another name holds it, and never applies
//! on other interpreters. Joining the parts once is linear. Measured on this machine (CPython
//! 3.11, `python -m timeit`, 10,000 parts of 10 characters): `+=` with the in-place trick
//! 1.08 ms, `+=` while another name holds the string 16.6 ms, `"".join(parts)` 0.085 ms.
//!
//! **Example**
//! ```python
//! out = ""
//! for row in rows:
//!     out += f"{row}\n"
//! ```
//! **Fix**: `parts.append(f"{row}\n")` in the loop and `out = "".join(parts)` after it (or
//! `"".join(f"{row}\n" for row in rows)`), or write to an `io.StringIO`.
//!
//! Numbers are not flagged: the target must be known to be a string (bound to a string, or
//! the added value is a string literal or f-string).

use ruff_python_ast::{self as ast, Expr, Operator, Stmt};

use ruff_text_size::Ranged;

use crate::checker::{Checker, Node};
use crate::registry::Rule;
use crate::semantic::Value;

/// The check.
pub fn check(checker: &mut Checker<'_>, node: Node<'_>) {
    if !checker.in_loop() || checker.loop_depth() == 0 {
        return;
    }
    let (target, value, range) = match node {
        Node::Stmt(Stmt::AugAssign(a)) if a.op == Operator::Add => (a.target.as_ref(), a.value.as_ref(), a.range),
        Node::Stmt(Stmt::Assign(a)) if a.targets.len() == 1 => match a.value.as_ref() {
            Expr::BinOp(ast::ExprBinOp { op: Operator::Add, right, .. })
                if same_name(&a.targets[0], leftmost(&a.value)) =>
            {
                (&a.targets[0], right.as_ref(), a.range)
            }
            _ => return,
        },
        _ => return,
    };
    let Expr::Name(name) = target else { return };
    if !is_string_build(checker, name.id.as_str(), value) {
        return;
    }
    // A string made afresh in each iteration (`call = "in " + f; call += args`, or the loop
    // variable itself) does not grow across iterations: only one built up over the loop is
    // quadratic. A reset under a condition (`if len(out) > n: out = ""`) still accumulates.
    if let Some(inner) = checker.loops().last() {
        let own_target = match inner {
            crate::checker::LoopRef::For(f) => binds(&f.target, name.id.as_str()),
            crate::checker::LoopRef::While(_) => false,
        };
        if own_target || rebound_in(inner.body(), name.id.as_str()) {
            return;
        }
        // Or rebound before it in an enclosing block inside the loop (`p = "$Port"`, then
        // `if specified: p = p + port`).
        let anc = checker.ancestors();
        let loop_range = inner.range();
        for pair in anc.windows(2).rev() {
            let (parent, child) = (pair[0], pair[1]);
            if parent.range() == loop_range {
                break;
            }
            let Some(block) =
                super::helpers::child_bodies(parent).into_iter().find(|b| b.iter().any(|s| std::ptr::eq(s, child)))
            else {
                break;
            };
            let before = block.iter().take_while(|s| !std::ptr::eq(*s, child));
            if before.into_iter().any(|s| rebound_in(std::slice::from_ref(s), name.id.as_str())) {
                return;
            }
        }
    }
    let id = name.id.as_str();
    let message = format!("String `{id}` built with `+=` in a loop: each step may copy the whole string");
    // One finding per string per loop.
    if let Some(inner) = checker.loops().last().map(|l| l.range())
        && checker
            .diagnostics
            .iter()
            .any(|d| d.rule == Rule::StringConcatInLoop && d.message == message && inner.contains_range(d.range))
    {
        return;
    }
    checker.report(
        Rule::StringConcatInLoop,
        range,
        message,
        Some(format!("append the pieces to a list and `\"\".join()` it once after the loop (or use `io.StringIO`) instead of growing `{id}`")),
    );
}

/// The first operand of a chain of additions (`s + a + b` is `(s + a) + b`).
fn leftmost(expr: &Expr) -> &Expr {
    match expr {
        Expr::BinOp(ast::ExprBinOp { left, op: Operator::Add, .. }) => leftmost(left),
        other => other,
    }
}

fn same_name(a: &Expr, b: &Expr) -> bool {
    matches!((a, b), (Expr::Name(x), Expr::Name(y)) if x.id == y.id)
}

/// Whether `target` binds `name` (directly or by unpacking).
fn binds(target: &Expr, name: &str) -> bool {
    match target {
        Expr::Name(n) => n.id.as_str() == name,
        Expr::Tuple(t) => t.elts.iter().any(|e| binds(e, name)),
        Expr::List(l) => l.elts.iter().any(|e| binds(e, name)),
        Expr::Starred(st) => binds(&st.value, name),
        _ => false,
    }
}

/// Whether a statement directly in `body` (not under a condition) rebinds `name` other than
/// by accumulating into it.
fn rebound_in(body: &[Stmt], name: &str) -> bool {
    body.iter().any(|stmt| match stmt {
        Stmt::Assign(a) => {
            // `s = s + x` accumulates; anything else rebinds.
            let accumulates = matches!(a.value.as_ref(), Expr::BinOp(b) if b.op == Operator::Add
                && matches!(leftmost(&a.value), Expr::Name(n) if n.id.as_str() == name));
            !accumulates && a.targets.iter().any(|t| binds(t, name))
        }
        Stmt::AnnAssign(a) => a.value.is_some() && binds(&a.target, name),
        Stmt::With(w) => w.items.iter().filter_map(|i| i.optional_vars.as_deref()).any(|t| binds(t, name)),
        _ => false,
    })
}

fn is_string_build(checker: &Checker<'_>, name: &str, value: &Expr) -> bool {
    // The added value is visibly a string.
    let value_is_str = match value {
        Expr::StringLiteral(_) | Expr::FString(_) => true,
        Expr::BinOp(b) => {
            matches!(b.left.as_ref(), Expr::StringLiteral(_) | Expr::FString(_))
                || matches!(b.right.as_ref(), Expr::StringLiteral(_) | Expr::FString(_))
        }
        Expr::Call(c) => checker.callee(c).is_some_and(|q| q == "str" || q == "repr"),
        _ => false,
    };
    let bindings = checker.bindings(name).unwrap_or(&[]);
    // Bound as a number or a list somewhere: not a string build (`total += qty`, `items += [x]`).
    let other_kind = bindings.iter().any(|v| v.is_number() || v.is_sequence() || matches!(v, Value::Bytes));
    if other_kind {
        return false;
    }
    // A str binding, or a parameter annotated `str`.
    let bound_str = bindings.iter().any(Value::is_str);
    bound_str || value_is_str
}

#[cfg(test)]
mod tests {
    #[test]
    fn fixture() {
        crate::rules::check_fixture(crate::Rule::StringConcatInLoop);
    }
}
