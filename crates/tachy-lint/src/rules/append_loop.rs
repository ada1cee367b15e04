//! TA108 `append-loop`: a `for` loop whose whole body is `result.append(expr)` (optionally
//! under one `if` without `else`), where `result` is a list: a list comprehension does it faster.
//!
//! **Why it is slow**: every iteration of the loop looks up `result.append` and calls it; a
//! list comprehension appends with one `LIST_APPEND` instruction in a dedicated loop. CPython
//! 3.11 already specializes `list.append` calls, so the saving is a few nanoseconds per item:
//! it shows in hot loops with cheap elements and fades when the element does real work.
//! Measured on this machine (CPython 3.11, `python -m timeit -r 9`, 1,000 items, back-to-back
//! pairs on a shared machine): `for x in xs: r.append(x)` 23.3 µs vs `[x for x in xs]` 17.7 µs
//! (1.3x); with an `if` keeping half 44.7 µs vs 40.7 µs (1.1x); `r.append(x.upper())` 73.0 µs vs
//! 68.8 µs (1.06x). A loop that copies items one by one is far slower than `list(xs)` (25.0 µs
//! vs 2.23 µs). To add to a list that already holds items, `r.extend([... for ...])` (43.3 µs
//! for `x * 2`) beats `r.extend(... for ...)` (70.3 µs): a generator is slower than both.
//!
//! **Example**
//! ```python
//! names = []
//! for user in users:
//!     if user.active:
//!         names.append(user.name)
//! ```
//! **Fix**: `names = [user.name for user in users if user.active]` (or `list(users)` when the
//! loop appends its own variable); when the list is not created empty just before the loop,
//! `names.extend([user.name for user in users if user.active])`.
//!
//! A fix is offered when `result = []` is the statement just before the loop: the two become
//! one assignment (comments in between move above it). It is unsafe inside a `try` (an
//! exception in the middle of the loop left `result` partly filled; the comprehension leaves
//! it unassigned).
//!
//! Not flagged: bodies with anything else (other statements, `else`/`elif`, nested loops,
//! two lists), `async for`, `for`-`else`, `await` or `yield` in the element or the condition,
//! an element or condition that reads the list itself (`if x not in result`), appends to an
//! attribute (`self.items.append`), names not known to be lists, loops whose variable is read
//! after the loop (a comprehension does not leak it) or from a nested function, loops in a
//! class body (a comprehension there cannot see the class's names), and elements calling
//! `super()`, `locals()` or `vars()` (they mean something else inside a comprehension on
//! CPython 3.11).

use ruff_python_ast::token::TokenKind;
use ruff_python_ast::visitor::{Visitor, walk_expr, walk_stmt};
use ruff_python_ast::{self as ast, Expr, ExprContext, Stmt};
use ruff_text_size::{Ranged, TextRange, TextSize};

use crate::checker::{Checker, Edit, Fix, Node};
use crate::registry::Rule;
use crate::rules::helpers;
use crate::semantic::Value;

/// The check.
pub fn check(checker: &mut Checker<'_>, node: Node<'_>) {
    let Node::Stmt(Stmt::For(f)) = node else { return };
    if f.is_async || !f.orelse.is_empty() || f.body.len() != 1 {
        return;
    }
    let (append, test) = match &f.body[0] {
        Stmt::If(s) if s.elif_else_clauses.is_empty() && s.body.len() == 1 => (&s.body[0], Some(s.test.as_ref())),
        other => (other, None),
    };
    let Stmt::Expr(ast::StmtExpr { value, .. }) = append else { return };
    let Expr::Call(call) = value.as_ref() else { return };
    let Expr::Attribute(attr) = call.func.as_ref() else { return };
    let Expr::Name(list) = attr.value.as_ref() else { return };
    if attr.attr.id.as_str() != "append" || call.arguments.args.len() != 1 || !call.arguments.keywords.is_empty() {
        return;
    }
    let elt = &call.arguments.args[0];
    let id = list.id.as_str();
    if elt.is_starred_expr() || !is_list(checker, id) {
        return;
    }
    // The element and the condition run inside the comprehension: no `await`/`yield`, no
    // reading the list being built, no scope-sensitive builtins.
    let parts: Vec<&Expr> = std::iter::once(elt).chain(test).collect();
    if parts.iter().any(|e| bad_in_comprehension(e, id)) || mentions(&f.iter, id) || mentions(&f.target, id) {
        return;
    }
    let mut targets = Vec::new();
    if !target_names(&f.target, &mut targets) {
        return;
    }
    // A comprehension in a class body cannot see the class's names; find the enclosing scope.
    let ancestors = checker.ancestors();
    let enclosing = ancestors.iter().rev().skip(1).find(|s| matches!(s, Stmt::FunctionDef(_) | Stmt::ClassDef(_)));
    if matches!(enclosing, Some(Stmt::ClassDef(_))) {
        return;
    }
    let parent: Option<&Stmt> = ancestors.len().checked_sub(2).map(|i| ancestors[i]);
    let scope = match (enclosing, checker.function()) {
        (Some(Stmt::FunctionDef(def)), _) => Some(&def.body),
        (None, None) => None,
        _ => return,
    };
    let (used_after, previous) = match scope {
        Some(body) => {
            let used = loop_var_used_outside(body, f.range, &targets);
            let prev = parent
                .and_then(|p| previous_sibling(&helpers::child_bodies(p), f.range))
                .and_then(|p| empty_list_assignment(p, id));
            (used, prev)
        }
        None => helpers::with_module(checker.source, |suite| {
            let used = loop_var_used_outside(suite, f.range, &targets);
            let bodies = match parent {
                Some(p) => helpers::child_bodies(p),
                None => vec![suite],
            };
            (used, previous_sibling(&bodies, f.range).and_then(|p| empty_list_assignment(p, id)))
        }),
    };
    if used_after {
        return;
    }

    let src = checker.source;
    let comp = comprehension_text(src, elt, &f.target, &f.iter, test);
    let in_try = ancestors.iter().any(|s| matches!(s, Stmt::Try(_)));
    let (help, fix) = match previous {
        Some((assign_range, value_start)) => {
            let edit_range = TextRange::new(assign_range.start(), f.range.end());
            let keep = [elt.range(), f.target.range(), f.iter.range()]
                .into_iter()
                .chain(test.map(Ranged::range))
                .collect::<Vec<_>>();
            let comments = comments_in(src, edit_range, &keep);
            let line_start = src[..usize::from(assign_range.start())].rfind('\n').map_or(0, |i| i + 1);
            let indent = &src[line_start..usize::from(assign_range.start())];
            let mut content = String::new();
            for c in &comments {
                content.push_str(c);
                content.push('\n');
                content.push_str(indent);
            }
            content.push_str(&src[usize::from(assign_range.start())..usize::from(value_start)]);
            content.push_str(&comp);
            let fix = if indent.trim().is_empty() {
                Some(Fix {
                    message: "Build the list with a comprehension".to_string(),
                    safe: !in_try,
                    edits: vec![Edit { range: edit_range, content }],
                })
            } else {
                None
            };
            (format!("build it in one expression: `{id} = {}`", shorten(&comp)), fix)
        }
        None => {
            let arg = comp.strip_prefix("list(").and_then(|c| c.strip_suffix(')')).unwrap_or(&comp);
            (format!("extend it in one call: `{id}.extend({})`", shorten(arg)), None)
        }
    };
    let what = if test.is_some() { "only appends (under one `if`) to" } else { "only appends to" };
    let diag = checker.report(
        Rule::AppendLoop,
        f.range,
        format!("This loop {what} the list `{id}`: a list comprehension builds it without a method call per item"),
        Some(help),
    );
    diag.fix = fix;
}

/// Whether every binding of `id` is a list.
fn is_list(checker: &Checker<'_>, id: &str) -> bool {
    fn list(v: &Value) -> bool {
        match v {
            Value::List | Value::ListComp => true,
            Value::Call(q) => matches!(q.as_str(), "list" | "sorted"),
            Value::Param(Some(b)) => list(b),
            _ => false,
        }
    }
    checker.bindings(id).is_some_and(|vs| !vs.is_empty() && vs.iter().all(list))
}

/// Whether `expr` cannot move into a comprehension: `await`, `yield`, `:=` in the element,
/// a read of the list `id`, or `super()`/`locals()`/`vars()`.
fn bad_in_comprehension(expr: &Expr, id: &str) -> bool {
    let mut bad = false;
    helpers::visit_exprs(expr, &mut |e| match e {
        Expr::Await(_) | Expr::Yield(_) | Expr::YieldFrom(_) => bad = true,
        Expr::Name(n) if n.id.as_str() == id => bad = true,
        Expr::Call(c) => {
            if let Expr::Name(n) = c.func.as_ref()
                && matches!(n.id.as_str(), "super" | "locals" | "vars" | "exec" | "eval")
            {
                bad = true;
            }
        }
        _ => {}
    });
    bad
}

/// Whether `expr` mentions the name `id`.
fn mentions(expr: &Expr, id: &str) -> bool {
    let mut found = false;
    helpers::visit_exprs(expr, &mut |e| {
        if let Expr::Name(n) = e
            && n.id.as_str() == id
        {
            found = true;
        }
    });
    found
}

/// The names a `for` target binds; `false` for targets a comprehension would treat
/// differently (attributes, subscripts, starred).
fn target_names<'a>(target: &'a Expr, out: &mut Vec<&'a str>) -> bool {
    match target {
        Expr::Name(n) => {
            out.push(n.id.as_str());
            true
        }
        Expr::Tuple(t) => t.elts.iter().all(|e| target_names(e, out)),
        Expr::List(t) => t.elts.iter().all(|e| target_names(e, out)),
        _ => false,
    }
}

/// Whether a loop variable is read after the loop (before being rebound), from a nested
/// function or class, or declared `global`/`nonlocal`, anywhere in `scope`.
fn loop_var_used_outside(scope: &[Stmt], loop_range: TextRange, names: &[&str]) -> bool {
    /// One occurrence of a loop variable: the start of its innermost statement, whether it
    /// reads the variable, whether it is inside a nested scope.
    struct Occurrence {
        name: usize,
        at: TextSize,
        load: bool,
        nested: bool,
    }
    struct Finder<'n> {
        names: &'n [&'n str],
        stmt_start: Vec<TextSize>,
        nested: usize,
        found: Vec<Occurrence>,
        declared: bool,
    }
    impl<'a> Visitor<'a> for Finder<'_> {
        fn visit_stmt(&mut self, stmt: &'a Stmt) {
            match stmt {
                Stmt::Global(g) => self.declared |= g.names.iter().any(|n| self.names.contains(&n.id.as_str())),
                Stmt::Nonlocal(g) => self.declared |= g.names.iter().any(|n| self.names.contains(&n.id.as_str())),
                _ => {}
            }
            self.stmt_start.push(stmt.start());
            let nested = matches!(stmt, Stmt::FunctionDef(_) | Stmt::ClassDef(_));
            if let Stmt::AugAssign(a) = stmt
                && let Expr::Name(n) = a.target.as_ref()
                && self.names.contains(&n.id.as_str())
            {
                // `x += 1` reads `x`.
                let name = self.names.iter().position(|x| *x == n.id.as_str()).unwrap_or_default();
                self.found.push(Occurrence { name, at: stmt.start(), load: true, nested: self.nested > 0 });
            }
            self.nested += usize::from(nested);
            walk_stmt(self, stmt);
            self.nested -= usize::from(nested);
            self.stmt_start.pop();
        }
        fn visit_expr(&mut self, expr: &'a Expr) {
            match expr {
                Expr::Name(n) if self.names.contains(&n.id.as_str()) => {
                    let at = self.stmt_start.last().copied().unwrap_or_default();
                    let name = self.names.iter().position(|x| *x == n.id.as_str()).unwrap_or_default();
                    self.found.push(Occurrence {
                        name,
                        at,
                        load: !matches!(n.ctx, ExprContext::Store),
                        nested: self.nested > 0,
                    });
                }
                Expr::Lambda(_) => {
                    self.nested += 1;
                    walk_expr(self, expr);
                    self.nested -= 1;
                    return;
                }
                _ => {}
            }
            walk_expr(self, expr);
        }
    }
    let mut finder = Finder { names, stmt_start: Vec::new(), nested: 0, found: Vec::new(), declared: false };
    finder.visit_body(scope);
    if finder.declared || finder.found.iter().any(|o| o.nested) {
        return true;
    }
    (0..names.len()).any(|i| {
        // This name's first occurrence after the loop decides (a read on a tie: `x = x + 1`).
        let first =
            finder.found.iter().filter(|o| o.name == i && o.at >= loop_range.end()).min_by_key(|o| (o.at, !o.load));
        first.is_some_and(|o| o.load)
    })
}

/// The statement just before the one at `range` in one of `bodies`.
fn previous_sibling<'s>(bodies: &[&'s [Stmt]], range: TextRange) -> Option<&'s Stmt> {
    for body in bodies {
        if let Some(i) = body.iter().position(|s| s.range() == range) {
            return i.checked_sub(1).map(|j| &body[j]);
        }
    }
    None
}

/// `Some((statement range, value start))` when `stmt` is `id = []` or `id: T = []`.
fn empty_list_assignment(stmt: &Stmt, id: &str) -> Option<(TextRange, TextSize)> {
    let (target, value) = match stmt {
        Stmt::Assign(a) if a.targets.len() == 1 => (&a.targets[0], a.value.as_ref()),
        Stmt::AnnAssign(a) => (a.target.as_ref(), a.value.as_deref()?),
        _ => return None,
    };
    let is_empty = matches!(value, Expr::List(l) if l.elts.is_empty());
    (matches!(target, Expr::Name(n) if n.id.as_str() == id) && is_empty).then(|| (stmt.range(), value.start()))
}

/// `[elt for target in iter if test]`, or `list(iter)` when the loop appends its own variable.
fn comprehension_text(src: &str, elt: &Expr, target: &Expr, iter: &Expr, test: Option<&Expr>) -> String {
    let text = |e: &Expr| &src[e.range()];
    let iter_text = wrap(
        text(iter),
        matches!(iter, Expr::If(_) | Expr::Lambda(_) | Expr::Named(_) | Expr::Starred(_)) || is_bare_tuple(iter),
    );
    if test.is_none() && matches!((elt, target), (Expr::Name(a), Expr::Name(b)) if a.id == b.id) {
        let arg = wrap(text(iter), matches!(iter, Expr::Named(_) | Expr::Starred(_)) || is_bare_tuple(iter));
        return format!("list({arg})");
    }
    let elt_text =
        wrap(text(elt), matches!(elt, Expr::Named(_)) || matches!(elt, Expr::Generator(g) if !g.parenthesized));
    let target_text = text(target);
    let mut out = format!("[{elt_text} for {target_text} in {iter_text}");
    if let Some(t) = test {
        out.push_str(" if ");
        out.push_str(&wrap(text(t), matches!(t, Expr::If(_) | Expr::Lambda(_) | Expr::Named(_))));
    }
    out.push(']');
    out
}

fn is_bare_tuple(e: &Expr) -> bool {
    matches!(e, Expr::Tuple(t) if !t.parenthesized)
}

fn wrap(text: &str, parens: bool) -> String {
    if parens { format!("({text})") } else { text.to_string() }
}

/// A one-line preview of the comprehension for the help text.
fn shorten(comp: &str) -> String {
    let one_line = comp.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() > 80 {
        format!("{}...]", one_line.chars().take(60).collect::<String>())
    } else {
        one_line
    }
}

/// The comments inside `range` of `src`, except those inside the `keep` ranges (which move
/// with their expressions).
fn comments_in(src: &str, range: TextRange, keep: &[TextRange]) -> Vec<String> {
    let text = &src[range];
    // Re-indent the snippet under `if 1:` so that it lexes as one block.
    let line_start = src[..usize::from(range.start())].rfind('\n').map_or(0, |i| i + 1);
    let indent = &src[line_start..usize::from(range.start())];
    let prefix = format!("if 1:\n {indent}");
    let snippet = format!("{prefix}{text}");
    let parsed = ruff_python_parser::parse_unchecked_source(&snippet, ast::PySourceType::Python);
    let shift = TextSize::try_from(prefix.len()).unwrap_or_default();
    parsed
        .tokens()
        .iter()
        .filter(|t| t.kind() == TokenKind::Comment && t.start() >= shift)
        .filter(|t| {
            let abs = range.start() + (t.start() - shift);
            !keep.iter().any(|k| k.contains(abs))
        })
        .map(|t| snippet[t.range()].to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn fixture() {
        crate::rules::check_fixture(crate::Rule::AppendLoop);
    }
}
