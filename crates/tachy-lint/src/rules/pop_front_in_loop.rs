//! TA110 `pop-front-in-loop`: `L.pop(0)` or `L.insert(0, x)` inside a loop, on a list.
//!
//! **Why it is slow**: a list is an array; removing or inserting at the front moves every
//! other item one slot, so each call is O(len(L)) and draining or building a list from the
//! front in a loop is quadratic. `collections.deque` does both ends in O(1). Measured on this
//! machine (CPython 3.11, `python -m timeit`, 10,000 items): draining with `L.pop(0)` 13.9 ms,
//! with `deque.popleft()` 0.518 ms (27x); building with `L.insert(0, i)` 24.0 ms, with
//! `deque.appendleft(i)` 0.557 ms (43x).
//!
//! **Example**
//! ```python
//! queue = [start]
//! while queue:
//!     node = queue.pop(0)
//!     queue.extend(node.children)
//! ```
//! **Fix**: `queue = collections.deque([start])` and `queue.popleft()` (`appendleft(x)` for
//! `insert(0, x)`); or, to build a list in reverse, `append()` in the loop and reverse once.
//!
//! What counts as a list: `pop(0)` is flagged on any receiver not known to be something else
//! (a `collections.deque`, whose `pop()` takes no index, or a dict, where `pop(0)` removes the
//! key 0); `insert(0, x)` only on a name bound to a list (or an unannotated parameter, or a
//! `split()`/`readlines()` result), because GUI widgets (`tkinter.Entry.insert(0, text)`) and
//! other objects share the method name. A `deque`'s own `insert(0, x)` is cheap and never
//! flagged. Nor is a list bound afresh inside the innermost loop (`s = line.split()` then
//! `s.pop(0)`): it is not drained across iterations, so each call only pays for one short list.

use ruff_python_ast::{self as ast, Expr, Stmt};
use ruff_text_size::Ranged;

use crate::checker::{Checker, Node};
use crate::registry::Rule;
use crate::semantic::{Value, dotted};

/// The check.
pub fn check(checker: &mut Checker<'_>, node: Node<'_>) {
    let Node::Expr(Expr::Call(call)) = node else { return };
    let Expr::Attribute(attr) = call.func.as_ref() else { return };
    let args = &call.arguments;
    if !args.keywords.is_empty() || !checker.in_loop() {
        return;
    }
    let method = attr.attr.id.as_str();
    let front = args.args.first().is_some_and(is_zero);
    let is_pop = method == "pop" && args.args.len() == 1 && front;
    let is_insert = method == "insert" && args.args.len() == 2 && front;
    if !(is_pop || is_insert) {
        return;
    }
    let receiver = attr.value.as_ref();
    let bindings: &[Value] = match receiver {
        Expr::Name(n) => checker.bindings(n.id.as_str()).unwrap_or(&[]),
        _ => &[],
    };
    if bindings.iter().any(|v| is_deque(v) || v.is_dict() || matches!(v, Value::Set | Value::SetComp | Value::Str)) {
        return;
    }
    // A parameter annotated `deque[...]` / `Deque[...]` (the semantic layer does not keep it).
    if let Expr::Name(n) = receiver
        && let Some(f) = checker.function()
        && let Some(p) = f.def.parameters.find(n.id.as_str())
        && let Some(ann) = p.parameter.annotation.as_deref()
        && checker.text(ann.range()).to_ascii_lowercase().contains("deque")
    {
        return;
    }
    if is_insert {
        let Expr::Name(_) = receiver else { return };
        if bindings.is_empty() || !bindings.iter().all(list_like) {
            return;
        }
    } else if let Some(q) = receiver_call(receiver) {
        // `collections.deque(...).pop(0)`-style chains: only plain lists.
        if q.ends_with("deque") {
            return;
        }
    }
    // A list created afresh in each iteration (`s = line.split(); s.pop(0)`) is not drained
    // across iterations: each call pays for that iteration's short list only.
    if let Expr::Name(n) = receiver
        && let Some(innermost) = checker.loops().last()
        && assigns(innermost.body(), n.id.as_str())
    {
        return;
    }
    let shown = dotted(receiver).unwrap_or_else(|| "the list".to_string());
    let (what, help) = if is_pop {
        (
            format!(
                "`{shown}.pop(0)` in a loop moves every remaining item of the list one slot: O(len) per call, quadratic overall"
            ),
            format!(
                "make `{shown}` a `collections.deque` and call `{shown}.popleft()` (O(1)), or iterate the list instead of draining it"
            ),
        )
    } else {
        (
            format!(
                "`{shown}.insert(0, ...)` in a loop moves every item of the list one slot: O(len) per call, quadratic overall"
            ),
            format!(
                "make `{shown}` a `collections.deque` and call `{shown}.appendleft(...)` (O(1)), or `append()` in the loop and reverse once after it"
            ),
        )
    };
    checker.report(Rule::PopFrontInLoop, call.range(), what, Some(help));
}

/// Whether `body` (not nested definitions) assigns the name `id`.
fn assigns(body: &[Stmt], id: &str) -> bool {
    let is_id = |e: &Expr| matches!(e, Expr::Name(n) if n.id.as_str() == id);
    body.iter().any(|stmt| match stmt {
        Stmt::Assign(a) => {
            a.targets.iter().any(|t| is_id(t) || matches!(t, Expr::Tuple(tu) if tu.elts.iter().any(is_id)))
        }
        Stmt::AnnAssign(a) => a.value.is_some() && is_id(&a.target),
        Stmt::For(f) => is_id(&f.target) || assigns(&f.body, id) || assigns(&f.orelse, id),
        Stmt::While(w) => assigns(&w.body, id) || assigns(&w.orelse, id),
        Stmt::If(i) => assigns(&i.body, id) || i.elif_else_clauses.iter().any(|c| assigns(&c.body, id)),
        Stmt::With(w) => assigns(&w.body, id),
        Stmt::Try(t) => {
            assigns(&t.body, id)
                || t.handlers.iter().any(|h| {
                    let ast::ExceptHandler::ExceptHandler(h) = h;
                    assigns(&h.body, id)
                })
                || assigns(&t.orelse, id)
                || assigns(&t.finalbody, id)
        }
        Stmt::Match(m) => m.cases.iter().any(|c| assigns(&c.body, id)),
        _ => false,
    })
}

/// A literal `0`.
fn is_zero(expr: &Expr) -> bool {
    matches!(expr, Expr::NumberLiteral(ast::ExprNumberLiteral { value: ast::Number::Int(i), .. }) if i.as_u8() == Some(0))
}

fn is_deque(v: &Value) -> bool {
    match v {
        Value::Call(q) => q == "collections.deque" || q.ends_with(".deque") || q == "deque",
        Value::Param(Some(b)) => is_deque(b),
        _ => false,
    }
}

/// A binding that holds (or most likely holds) a list.
fn list_like(v: &Value) -> bool {
    match v {
        Value::List | Value::ListComp | Value::Param(None) => true,
        Value::Call(q) => {
            matches!(q.as_str(), "list" | "sorted")
                || [".split", ".rsplit", ".splitlines", ".readlines"].iter().any(|m| q.ends_with(m))
        }
        Value::Param(Some(b)) => matches!(**b, Value::List),
        _ => false,
    }
}

/// The callee of a call receiver (`deque(x).pop(0)`), as dotted text.
fn receiver_call(receiver: &Expr) -> Option<String> {
    match receiver {
        Expr::Call(c) => dotted(&c.func),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn fixture() {
        crate::rules::check_fixture(crate::Rule::PopFrontInLoop);
    }
}
