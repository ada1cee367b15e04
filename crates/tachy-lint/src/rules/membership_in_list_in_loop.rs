//! TA102 `membership-in-list-in-loop`: `x in L` or `x not in L` inside a loop, where `L` is
//! a list or tuple literal, or a name every binding of which is a list or tuple.
//!
//! **Why it is slow**: `in` on a list or tuple compares the needle with the items one by one,
//! so every test costs O(len(L)), and inside a loop the scans multiply: the classic
//! `if x not in seen: seen.append(x)` de-duplication is quadratic. A `set` (or `frozenset`)
//! answers with one hash lookup. Measured on this machine (CPython 3.11, `python -m timeit`):
//! 40 tests against a 20-int list 10.0 µs, against a set 1.69 µs (5.9x); 40 tests of HTTP
//! method names against a 7-string list 6.39 µs, against a frozenset 1.38 µs (4.6x).
//!
//! **Example**
//! ```python
//! for row in rows:
//!     if row.method in ["GET", "HEAD", "OPTIONS", "TRACE"]:
//!         safe.append(row)
//! ```
//! **Fix**: test against a set literal (`{"GET", "HEAD", "OPTIONS", "TRACE"}`: CPython stores a
//! set literal of constants used with `in` as a `frozenset` constant, so it costs nothing to
//! build), or build a set once before the loop (`allowed = set(names)`); to de-duplicate while
//! keeping order, keep a set beside the list.
//!
//! Not flagged: a literal list or tuple of at most 3 constants (or a name bound only to a
//! literal of at most 3 items, such as `prefixes = ("  ", tag)`):
//! a set is still about 2x faster there (60 tests against `('a', 'b', 'c')` took 4.73 µs, against
//! `{'a', 'b', 'c'}` 2.05 µs), but the saving is ~40 ns a test, not worth a finding. Literals
//! with non-constant items (a set literal of those is rebuilt on every evaluation), strings
//! (substring tests), dicts and sets, names of unknown type or bound to anything but a
//! list/tuple, and `for x in L` (iteration, not a membership test). The fix for a literal is
//! safe only when the needle is known to be hashable (a string or number): `{...}` raises
//! `TypeError` for an unhashable needle where the list scan did not.

use ruff_python_ast::{self as ast, CmpOp, Expr, Stmt, UnaryOp};
use ruff_text_size::{Ranged, TextRange, TextSize};

use crate::checker::{Checker, Edit, Fix, Node};
use crate::registry::Rule;
use crate::rules::helpers;
use crate::semantic::Value;

/// Literals of at most this many constants are not flagged.
const SMALL: usize = 3;

/// The check.
pub fn check(checker: &mut Checker<'_>, node: Node<'_>) {
    let Node::Expr(Expr::Compare(cmp)) = node else { return };
    if !checker.in_loop() {
        return;
    }
    let mut left = cmp.left.as_ref();
    for (op, right) in cmp.ops.iter().zip(cmp.comparators.iter()) {
        if matches!(op, CmpOp::In | CmpOp::NotIn) {
            inspect(checker, cmp, left, *op, right);
        }
        left = right;
    }
}

fn inspect(checker: &mut Checker<'_>, cmp: &ast::ExprCompare, left: &Expr, op: CmpOp, right: &Expr) {
    let op_text = if op == CmpOp::In { "in" } else { "not in" };
    match right {
        Expr::List(ast::ExprList { elts, .. }) | Expr::Tuple(ast::ExprTuple { elts, parenthesized: true, .. }) => {
            if elts.len() <= SMALL || !elts.iter().all(is_constant) {
                return;
            }
            let (kind, shown) = if matches!(right, Expr::List(_)) { ("list", "[...]") } else { ("tuple", "(...)") };
            let n = elts.len();
            let hashable = is_hashable(checker, left);
            let needle = checker.text(left.range());
            let range = right.range();
            let diag = checker.report(
                Rule::MembershipInListInLoop,
                cmp.range,
                format!("`{needle} {op_text} {shown}` scans a {kind} literal of {n} items on every iteration of the loop"),
                Some("use a set literal `{...}`: CPython stores it as a frozenset constant and tests membership with one hash lookup".to_string()),
            );
            diag.fix = Some(Fix {
                message: "Use a set literal".to_string(),
                safe: hashable,
                edits: vec![
                    Edit { range: TextRange::at(range.start(), TextSize::new(1)), content: "{".to_string() },
                    Edit {
                        range: TextRange::new(range.end() - TextSize::new(1), range.end()),
                        content: "}".to_string(),
                    },
                ],
            });
        }
        Expr::Name(name) => {
            let id = name.id.as_str();
            if !checker.is_sequence(right) || small_literal_name(checker, id) {
                return;
            }
            let needle = checker.text(left.range());
            let bindings = checker.bindings(id).unwrap_or(&[]);
            let kind = if bindings
                .iter()
                .all(|v| matches!(v, Value::Tuple) || matches!(v, Value::Param(Some(b)) if **b == Value::Tuple))
            {
                "tuple"
            } else {
                "list"
            };
            checker.report(
                Rule::MembershipInListInLoop,
                cmp.range,
                format!("`{needle} {op_text} {id}` scans the {kind} `{id}` item by item on every iteration of the loop"),
                Some(format!(
                    "make `{id}` a set (a frozenset for a constant), or build `set({id})` once before the loop and test against it; to keep order while de-duplicating, keep a set beside the list"
                )),
            );
        }
        _ => {}
    }
}

/// A literal constant (string, bytes, number, bool, None, `-1`).
fn is_constant(expr: &Expr) -> bool {
    match expr {
        Expr::UnaryOp(u) if matches!(u.op, UnaryOp::USub | UnaryOp::UAdd) => {
            matches!(u.operand.as_ref(), Expr::NumberLiteral(_))
        }
        other => other.is_literal_expr(),
    }
}

/// Whether the needle is known to be hashable (so `in {...}` cannot raise).
fn is_hashable(checker: &Checker<'_>, expr: &Expr) -> bool {
    if is_constant(expr) || matches!(expr, Expr::FString(_)) {
        return true;
    }
    match expr {
        Expr::Name(n) => checker.bindings(n.id.as_str()).is_some_and(|vs| {
            !vs.is_empty()
                && vs.iter().all(|v| v.is_str() || v.is_number() || matches!(v, Value::Bytes | Value::NoneLit))
        }),
        Expr::Call(c) => checker.callee(c).is_some_and(|q| {
            matches!(q.as_str(), "str" | "int" | "float" | "len" | "repr" | "ord" | "chr" | "hash" | "id")
        }),
        _ => false,
    }
}

/// Whether every binding of `id` is a literal of at most [`SMALL`] items (and, for a list, the
/// list is never grown): a set built once would save a few dozen nanoseconds a test.
fn small_literal_name(checker: &Checker<'_>, id: &str) -> bool {
    let Some(bindings) = checker.bindings(id) else { return false };
    if !bindings.iter().all(|v| matches!(v, Value::List | Value::Tuple)) {
        return false;
    }
    if checker.is_local(id) {
        let Some(f) = checker.function() else { return false };
        let mut values = Vec::new();
        collect_assigned(&f.def.body, id, &mut values);
        small_literals(&values, bindings.len(), id, checker.text(f.def.range))
    } else if checker.is_module_global(id) {
        helpers::with_module(checker.source, |suite| {
            let mut values = Vec::new();
            collect_assigned(suite, id, &mut values);
            small_literals(&values, bindings.len(), id, checker.source)
        })
    } else {
        false
    }
}

/// Whether the assigned values are all literals of 1..=[`SMALL`] items, one per binding,
/// and lists among them are not grown in `scope_text`.
fn small_literals(values: &[&Expr], bindings: usize, id: &str, scope_text: &str) -> bool {
    if values.is_empty() || values.len() != bindings {
        return false;
    }
    let grown = [".append(", ".extend(", ".insert("].iter().any(|m| scope_text.contains(&format!("{id}{m}")));
    values.iter().all(|v| match v {
        Expr::Tuple(t) => t.elts.len() <= SMALL && !t.elts.iter().any(Expr::is_starred_expr),
        Expr::List(l) => {
            !grown && !l.elts.is_empty() && l.elts.len() <= SMALL && !l.elts.iter().any(Expr::is_starred_expr)
        }
        _ => false,
    })
}

/// Values assigned to `id` by plain assignments in `body` (not in nested definitions).
fn collect_assigned<'a>(body: &'a [Stmt], id: &str, out: &mut Vec<&'a Expr>) {
    for stmt in body {
        match stmt {
            Stmt::Assign(a) if a.targets.iter().any(|t| matches!(t, Expr::Name(n) if n.id.as_str() == id)) => {
                out.push(&a.value);
            }
            Stmt::AnnAssign(a) => {
                if let (Expr::Name(n), Some(v)) = (a.target.as_ref(), &a.value)
                    && n.id.as_str() == id
                {
                    out.push(v);
                }
            }
            Stmt::If(s) => {
                collect_assigned(&s.body, id, out);
                for c in &s.elif_else_clauses {
                    collect_assigned(&c.body, id, out);
                }
            }
            Stmt::For(s) => {
                collect_assigned(&s.body, id, out);
                collect_assigned(&s.orelse, id, out);
            }
            Stmt::While(s) => {
                collect_assigned(&s.body, id, out);
                collect_assigned(&s.orelse, id, out);
            }
            Stmt::With(s) => collect_assigned(&s.body, id, out),
            Stmt::Try(s) => {
                collect_assigned(&s.body, id, out);
                for h in &s.handlers {
                    let ast::ExceptHandler::ExceptHandler(h) = h;
                    collect_assigned(&h.body, id, out);
                }
                collect_assigned(&s.orelse, id, out);
                collect_assigned(&s.finalbody, id, out);
            }
            Stmt::Match(m) => {
                for case in &m.cases {
                    collect_assigned(&case.body, id, out);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn fixture() {
        crate::rules::check_fixture(crate::Rule::MembershipInListInLoop);
    }
}
