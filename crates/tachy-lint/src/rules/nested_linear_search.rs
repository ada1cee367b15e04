//! TA111 `nested-linear-search`: an inner `for` loop that scans a collection for the element
//! equal to the outer loop's element: `for a in A: for b in B: if a == b: ...` (also
//! `a.key == b.key`, `b["id"] == a["id"]`).
//!
//! **Why it is slow**: every outer element scans the whole inner collection, so the work is
//! `len(A) * len(B)` comparisons; a set or dict of `B` keyed by the compared value makes each
//! lookup O(1), `len(A) + len(B)` in total. Measured on this machine (CPython 3.11, `python
//! -m timeit`, 1,000 outer and 1,000 inner integers): the nested loops 32 ms, `s = set(B)`
//! then `if a in s` 0.093 ms (340x).
//!
//! **Example**
//! ```python
//! for order in orders:
//!     for customer in customers:
//!         if customer.id == order.customer_id:
//!             order.customer = customer
//! ```
//! **Fix**: build the index once, `by_id = {c.id: c for c in customers}`, then
//! `order.customer = by_id.get(order.customer_id)` in the outer loop (mind duplicates: a dict
//! keeps the last one, a search with `break` finds the first).
//!
//! Not flagged: an inner collection that depends on the outer element (`for b in a.children`,
//! no cross product), an outer loop over a literal (a few searches), the same collection in
//! both loops (all pairs, not a search), an inner collection modified during the search (an
//! index would need the same updates), `if a == b: continue` (skipping the element itself in an all-pairs
//! loop), literal collections and `range(...)` (indices, not elements), and
//! comparisons other than `==` between an outer and an inner loop variable, and inner bodies
//! that do not start with the `if` (pairwise work with an equality test somewhere inside).

use ruff_python_ast::{self as ast, CmpOp, Expr, Stmt};
use ruff_text_size::{Ranged, TextRange};

use crate::checker::{Checker, LoopRef, Node};
use crate::registry::Rule;

/// The check.
pub fn check(checker: &mut Checker<'_>, node: Node<'_>) {
    let Node::Stmt(Stmt::For(inner)) = node else { return };
    // Loop variables of the enclosing `for` loops of this function.
    let mut outer_vars: Vec<&str> = Vec::new();
    for l in checker.loops() {
        if let LoopRef::For(f) = l {
            target_names(&f.target, &mut outer_vars);
        }
    }
    if outer_vars.is_empty() {
        return;
    }
    let mut inner_vars = Vec::new();
    target_names(&inner.target, &mut inner_vars);
    if inner_vars.is_empty() || inner_vars.iter().any(|v| outer_vars.contains(v)) {
        return;
    }
    if !is_searchable(&inner.iter) || mentions_any(&inner.iter, &outer_vars) {
        return;
    }
    // The inner body starts with an `if` comparing an outer variable with an inner one (a
    // search; an equality test deep in a longer body is some other pairwise work).
    let Some((outer_side, inner_side)) = inner.body.first().and_then(|s| match s {
        // `if a == b: continue` skips the element itself in an all-pairs loop: not a search.
        Stmt::If(i) if !matches!(i.body.first(), Some(Stmt::Continue(_) | Stmt::Pass(_))) => {
            equality(&i.test, &outer_vars, &inner_vars)
        }
        _ => None,
    }) else {
        return;
    };
    // The compared outer value must not be rebound inside the inner loop.
    if rebinds_any(&inner.body, &outer_vars) {
        return;
    }
    // The outer loop of the compared variable: a handful of iterations, or the same collection
    // as the inner one (all pairs), is not a search worth an index.
    let Some(outer_root) = root_name(outer_side) else { return };
    let outer_loop = checker.loops().iter().rev().find_map(|l| match l {
        LoopRef::For(f) => {
            let mut names = Vec::new();
            target_names(&f.target, &mut names);
            names.contains(&outer_root).then_some(*f)
        }
        LoopRef::While(_) => None,
    });
    let Some(outer_loop) = outer_loop else { return };
    if !is_searchable(&outer_loop.iter) || checker.text(outer_loop.iter.range()) == checker.text(inner.iter.range()) {
        return;
    }
    // The inner collection modified during the search (`t[j] = None`, `states.append(st)`):
    // an index would need the same updates.
    if let Some(coll) = collection_name(&inner.iter)
        && (mutates(&inner.body, coll) || mutates(&inner.orelse, coll))
    {
        return;
    }
    let coll = checker.text(inner.iter.range());
    let outer_text = checker.text(outer_side.range());
    let inner_text = checker.text(inner_side.range());
    let inner_name = checker.text(inner.target.range());
    let header = TextRange::new(inner.range.start(), inner.iter.range().end());
    let index = if inner_text == inner_name {
        format!(
            "a set `s = set({coll})` once before the outer loop (the elements must be hashable) and test `{outer_text} in s`"
        )
    } else {
        format!(
            "a dict `index = {{{inner_text}: {inner_name} for {inner_name} in {coll}}}` once before the outer loop and look up `index.get({outer_text})`"
        )
    };
    checker.report(
        Rule::NestedLinearSearch,
        header,
        format!("Inner loop scans `{coll}` for every outer element to find `{inner_text} == {outer_text}`: quadratic"),
        Some(format!("build {index} instead of the inner loop")),
    );
}

/// The name at the root of `a`, `a.key`, `a["key"]`.
fn root_name(expr: &Expr) -> Option<&str> {
    match expr {
        Expr::Name(n) => Some(n.id.as_str()),
        Expr::Attribute(a) => root_name(&a.value),
        Expr::Subscript(s) => root_name(&s.value),
        _ => None,
    }
}

/// The collection's name behind `B`, `enumerate(B)`, `reversed(B)`, `self.items`...
fn collection_name(iter: &Expr) -> Option<&str> {
    match iter {
        Expr::Call(c) => c.arguments.args.first().and_then(collection_name),
        Expr::Name(n) => Some(n.id.as_str()),
        Expr::Attribute(a) => Some(a.attr.id.as_str()),
        _ => None,
    }
}

/// Whether a body changes the collection named `coll`: `coll[i] = ...`, `del coll[i]`, or a
/// mutating method call.
fn mutates(body: &[Stmt], coll: &str) -> bool {
    use ruff_python_ast::visitor::{Visitor, walk_expr};
    /// The search state.
    struct Finder<'n> {
        coll: &'n str,
        found: bool,
    }
    impl Finder<'_> {
        fn is_coll(&self, e: &Expr) -> bool {
            match e {
                Expr::Name(n) => n.id.as_str() == self.coll,
                Expr::Attribute(a) => a.attr.id.as_str() == self.coll,
                _ => false,
            }
        }
    }
    impl<'a> Visitor<'a> for Finder<'_> {
        fn visit_expr(&mut self, expr: &'a Expr) {
            match expr {
                Expr::Subscript(s) if !s.ctx.is_load() && self.is_coll(&s.value) => self.found = true,
                Expr::Call(c) => {
                    if let Expr::Attribute(a) = c.func.as_ref()
                        && self.is_coll(&a.value)
                        && matches!(
                            a.attr.id.as_str(),
                            "append"
                                | "insert"
                                | "remove"
                                | "pop"
                                | "extend"
                                | "clear"
                                | "add"
                                | "discard"
                                | "update"
                                | "sort"
                        )
                    {
                        self.found = true;
                    }
                }
                _ => {}
            }
            walk_expr(self, expr);
        }
    }
    let mut f = Finder { coll, found: false };
    for s in body {
        f.visit_stmt(s);
    }
    f.found
}

/// Names bound by a `for` target.
fn target_names<'a>(target: &'a Expr, out: &mut Vec<&'a str>) {
    match target {
        Expr::Name(n) => out.push(n.id.as_str()),
        Expr::Tuple(t) => t.elts.iter().for_each(|e| target_names(e, out)),
        Expr::List(t) => t.elts.iter().for_each(|e| target_names(e, out)),
        Expr::Starred(s) => target_names(&s.value, out),
        _ => {}
    }
}

/// A collection worth indexing: not a literal, not `range`/`enumerate(range)`, not a string.
fn is_searchable(iter: &Expr) -> bool {
    match iter {
        Expr::List(_) | Expr::Tuple(_) | Expr::Set(_) | Expr::StringLiteral(_) => false,
        Expr::Call(c) => match c.func.as_ref() {
            Expr::Name(n) => match n.id.as_str() {
                "range" => false,
                "enumerate" | "reversed" | "sorted" | "list" => c.arguments.args.first().is_some_and(is_searchable),
                _ => true,
            },
            _ => true,
        },
        _ => true,
    }
}

/// `outer == inner` (either order, possibly one operand of an `and`): returns the
/// (outer side, inner side) when one side reads only outer loop variables and the other only
/// inner ones.
fn equality<'a>(test: &'a Expr, outer: &[&str], inner: &[&str]) -> Option<(&'a Expr, &'a Expr)> {
    match test {
        Expr::BoolOp(b) if b.op == ast::BoolOp::And => b.values.iter().find_map(|v| equality(v, outer, inner)),
        Expr::Compare(c) if c.ops.len() == 1 && c.ops[0] == CmpOp::Eq => {
            let (l, r) = (c.left.as_ref(), &c.comparators[0]);
            match (side(l, outer, inner), side(r, outer, inner)) {
                (Some(Side::Outer), Some(Side::Inner)) => Some((l, r)),
                (Some(Side::Inner), Some(Side::Outer)) => Some((r, l)),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Which loop an operand belongs to.
#[derive(PartialEq)]
enum Side {
    /// An enclosing loop's variable.
    Outer,
    /// The inner loop's variable.
    Inner,
}

/// Which loop's variable an operand reads: a name, `x.attr`, `x["key"]` or `x[0]` on it.
fn side(expr: &Expr, outer: &[&str], inner: &[&str]) -> Option<Side> {
    match expr {
        Expr::Name(n) => {
            let id = n.id.as_str();
            if inner.contains(&id) {
                Some(Side::Inner)
            } else if outer.contains(&id) {
                Some(Side::Outer)
            } else {
                None
            }
        }
        Expr::Attribute(a) => side(&a.value, outer, inner),
        Expr::Subscript(s) if matches!(s.slice.as_ref(), Expr::StringLiteral(_) | Expr::NumberLiteral(_)) => {
            side(&s.value, outer, inner)
        }
        _ => None,
    }
}

/// Whether an expression reads any of these names.
fn mentions_any(expr: &Expr, names: &[&str]) -> bool {
    use ruff_python_ast::visitor::{Visitor, walk_expr};
    /// The search state.
    struct Finder<'n> {
        names: &'n [&'n str],
        found: bool,
    }
    impl<'a> Visitor<'a> for Finder<'_> {
        fn visit_expr(&mut self, expr: &'a Expr) {
            if let Expr::Name(n) = expr
                && self.names.contains(&n.id.as_str())
            {
                self.found = true;
            }
            walk_expr(self, expr);
        }
    }
    let mut f = Finder { names, found: false };
    f.visit_expr(expr);
    f.found
}

/// Whether a body assigns any of these names.
fn rebinds_any(body: &[Stmt], names: &[&str]) -> bool {
    use ruff_python_ast::visitor::{Visitor, walk_expr, walk_stmt};
    /// The search state.
    struct Finder<'n> {
        names: &'n [&'n str],
        found: bool,
    }
    impl<'a> Visitor<'a> for Finder<'_> {
        fn visit_stmt(&mut self, stmt: &'a Stmt) {
            if !matches!(stmt, Stmt::FunctionDef(_) | Stmt::ClassDef(_)) {
                walk_stmt(self, stmt);
            }
        }
        fn visit_expr(&mut self, expr: &'a Expr) {
            if let Expr::Name(n) = expr
                && n.ctx.is_store()
                && self.names.contains(&n.id.as_str())
            {
                self.found = true;
            }
            walk_expr(self, expr);
        }
    }
    let mut f = Finder { names, found: false };
    for s in body {
        f.visit_stmt(s);
    }
    f.found
}

#[cfg(test)]
mod tests {
    #[test]
    fn fixture() {
        crate::rules::check_fixture(crate::Rule::NestedLinearSearch);
    }
}
