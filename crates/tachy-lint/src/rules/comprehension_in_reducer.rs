//! TA103 `comprehension-in-reducer`: `any([...])` or `all([...])` over a list comprehension.
//!
//! **Why it is slow**: the list comprehension computes every element and stores them in a list
//! before `any`/`all` looks at the first one, so the short-circuit is lost: `any` stops at the
//! first true element only when it is handed a generator. Measured on this machine (CPython
//! 3.11, `python -m timeit`, 1,000 ints): `any([x > 10 for x in xs])` 39.0 µs,
//! `any(x > 10 for x in xs)` 2.53 µs (15x); with the hit in the middle 38.8 µs vs 32.0 µs. The
//! honest other side: when the whole input must be scanned (no true element for `any`, all
//! true for `all`), the generator is about 1.5x *slower* on cheap elements (`any([x < 0 ...])`
//! 40.5 µs vs 60.3 µs) because resuming a generator costs more than appending to a list. When
//! the element does real work (a call), that overhead shrinks to ~5% (`any([p.match(x) ...])`
//! 262 µs vs 276 µs for a full scan) while an early answer skips all the remaining calls.
//!
//! **Example**
//! ```python
//! if any([is_valid(row) for row in rows]):
//!     ...
//! ```
//! **Fix**: drop the brackets: `any(is_valid(row) for row in rows)`.
//!
//! Not flagged: `sum`, `min` and `max` over a list comprehension. They always consume every
//! element, so a generator only saves the memory of the intermediate list and costs time:
//! `sum([x * 2 for x in xs])` took 49.1 µs and `sum(x * 2 for x in xs)` 79.5 µs for 1,000 ints
//! (8.67 ms vs 12.4 ms for 100,000), `max` 97.4 µs vs 152 µs. Nor async comprehensions (an
//! async generator cannot be passed to `any`), or shadowed `any`/`all`.
//!
//! The fix is safe when nothing in the comprehension has side effects that the short-circuit
//! would skip: no calls, `await`, `yield` or `:=` in the element, the conditions or the inner
//! iterables, and the outer iterable is not a named iterator (which would be left partly
//! consumed). Otherwise it is offered as unsafe.

use ruff_python_ast::visitor::{Visitor, walk_expr};
use ruff_python_ast::{self as ast, Expr};
use ruff_text_size::{Ranged, TextRange, TextSize};

use crate::checker::{Checker, Edit, Fix, Node};
use crate::registry::Rule;
use crate::semantic::Value;

/// The check.
pub fn check(checker: &mut Checker<'_>, node: Node<'_>) {
    let Node::Expr(Expr::Call(call)) = node else { return };
    let args = &call.arguments;
    if args.args.len() != 1 || !args.keywords.is_empty() {
        return;
    }
    let Expr::ListComp(comp) = &args.args[0] else { return };
    let Some(callee) = checker.callee(call) else { return };
    let callee = callee.strip_prefix("builtins.").unwrap_or(&callee).to_string();
    if !matches!(callee.as_str(), "any" | "all") {
        return;
    }
    if comp.generators.iter().any(|g| g.is_async) || contains(&comp.elt, |e| matches!(e, Expr::Await(_))) {
        return;
    }
    let safe = !has_side_effects(comp) && !outer_is_iterator(checker, &comp.generators[0].iter);
    let range = comp.range;
    // `any([x for x in y],)`: a bare generator must be the only thing in the parentheses.
    let trailing_comma = checker.text(TextRange::new(range.end(), call.range().end())).contains(',');
    let (open, close) = if trailing_comma { ("(", ")") } else { ("", "") };
    let diag = checker.report(
        Rule::ComprehensionInReducer,
        call.range(),
        format!("`{callee}()` over a list comprehension builds the whole list first, so it cannot stop at the first decisive element"),
        Some(format!("pass a generator instead: drop the brackets, `{callee}(... for ...)`")),
    );
    diag.fix = Some(Fix {
        message: "Pass a generator expression".to_string(),
        safe,
        edits: vec![
            Edit { range: TextRange::at(range.start(), TextSize::new(1)), content: open.to_string() },
            Edit { range: TextRange::new(range.end() - TextSize::new(1), range.end()), content: close.to_string() },
        ],
    });
}

/// Whether evaluating the comprehension lazily could skip side effects: a call, `await`,
/// `yield` or `:=` in the element, a condition or an inner iterable.
fn has_side_effects(comp: &ast::ExprListComp) -> bool {
    let effect =
        |e: &Expr| matches!(e, Expr::Call(_) | Expr::Await(_) | Expr::Yield(_) | Expr::YieldFrom(_) | Expr::Named(_));
    if contains(&comp.elt, effect) {
        return true;
    }
    comp.generators
        .iter()
        .enumerate()
        .any(|(i, g)| (i > 0 && contains(&g.iter, effect)) || g.ifs.iter().any(|c| contains(c, effect)))
}

/// Whether the outer iterable is a name bound to an iterator (a generator, `iter()`, `map()`,
/// an open file...): stopping early would leave it partly consumed.
fn outer_is_iterator(checker: &Checker<'_>, iter: &Expr) -> bool {
    let Expr::Name(n) = iter else { return false };
    checker.bindings(n.id.as_str()).is_some_and(|vs| {
        vs.iter().any(|v| match v {
            Value::Generator | Value::WithItem(_) => true,
            Value::Call(q) => matches!(
                q.as_str(),
                "iter"
                    | "map"
                    | "filter"
                    | "zip"
                    | "enumerate"
                    | "reversed"
                    | "open"
                    | "io.open"
                    | "itertools.chain"
                    | "itertools.islice"
            ),
            _ => false,
        })
    })
}

/// Whether `expr` contains a sub-expression matching `pred` (not looking inside lambdas).
fn contains(expr: &Expr, pred: impl Fn(&Expr) -> bool) -> bool {
    struct Finder<F> {
        pred: F,
        found: bool,
    }
    impl<'a, F: Fn(&Expr) -> bool> Visitor<'a> for Finder<F> {
        fn visit_expr(&mut self, expr: &'a Expr) {
            if self.found {
                return;
            }
            if (self.pred)(expr) {
                self.found = true;
                return;
            }
            if !matches!(expr, Expr::Lambda(_)) {
                walk_expr(self, expr);
            }
        }
    }
    let mut f = Finder { pred, found: false };
    f.visit_expr(expr);
    f.found
}

#[cfg(test)]
mod tests {
    #[test]
    fn fixture() {
        crate::rules::check_fixture(crate::Rule::ComprehensionInReducer);
    }
}
