//! Helpers shared by several rules: loop-size guesses, expression walks, module parsing,
//! assertion detection and the diagnostics of deferred calls.

use std::cell::RefCell;

use ruff_python_ast::visitor::{Visitor, walk_expr, walk_stmt};
use ruff_python_ast::{self as ast, Expr, Stmt};
use ruff_python_parser::Parsed;
use ruff_text_size::{Ranged, TextRange};

use crate::checker::{Checker, Diagnostic};
use crate::project::DeferredCall;

/// Separates two texts (such as the callee's text and the arguments' text) in a deferred
/// call's detail.
pub const SEP: char = '\u{1f}';

/// A literal tuple/list/set or `range(<literal>)`: a loop of a few iterations.
pub fn few_iterations(iter: &Expr) -> bool {
    match iter {
        Expr::Tuple(_) | Expr::List(_) | Expr::Set(_) => true,
        Expr::Call(c) => {
            matches!(c.func.as_ref(), Expr::Name(n) if n.id.as_str() == "range")
                && !c.arguments.args.is_empty()
                && c.arguments.args.iter().all(|a| matches!(a, Expr::NumberLiteral(_)))
        }
        _ => false,
    }
}

/// Calls `f` on `expr` and every expression inside it.
pub fn visit_exprs(expr: &Expr, f: &mut dyn FnMut(&Expr)) {
    struct V<'f> {
        f: &'f mut dyn FnMut(&Expr),
    }
    impl<'a> Visitor<'a> for V<'_> {
        fn visit_expr(&mut self, expr: &'a Expr) {
            (self.f)(expr);
            walk_expr(self, expr);
        }
    }
    V { f }.visit_expr(expr);
}

/// Walks `stmt` the way a loop-body scan does: nested function and class definitions are
/// skipped, and a nested `for`/`while` loop is walked with the counter `depth` returns one
/// higher.
pub fn walk_loop_body_stmt<'a, V: Visitor<'a>>(v: &mut V, stmt: &'a Stmt, depth: fn(&mut V) -> &mut usize) {
    match stmt {
        Stmt::FunctionDef(_) | Stmt::ClassDef(_) => {}
        Stmt::For(_) | Stmt::While(_) => {
            *depth(v) += 1;
            walk_stmt(v, stmt);
            *depth(v) -= 1;
        }
        _ => walk_stmt(v, stmt),
    }
}

/// The statement bodies directly inside `stmt`.
pub fn child_bodies(stmt: &Stmt) -> Vec<&[Stmt]> {
    match stmt {
        Stmt::FunctionDef(s) => vec![&s.body],
        Stmt::ClassDef(s) => vec![&s.body],
        Stmt::For(s) => vec![&s.body, &s.orelse],
        Stmt::While(s) => vec![&s.body, &s.orelse],
        Stmt::If(s) => std::iter::once(&s.body[..]).chain(s.elif_else_clauses.iter().map(|c| &c.body[..])).collect(),
        Stmt::With(s) => vec![&s.body],
        Stmt::Try(s) => {
            let mut v: Vec<&[Stmt]> = vec![&s.body];
            for h in &s.handlers {
                let ast::ExceptHandler::ExceptHandler(h) = h;
                v.push(&h.body);
            }
            v.push(&s.orelse);
            v.push(&s.finalbody);
            v
        }
        Stmt::Match(m) => m.cases.iter().map(|c| &c.body[..]).collect(),
        _ => Vec::new(),
    }
}

thread_local! {
    /// The last module parsed for a module-level check, with its source.
    static MODULE: RefCell<Option<(String, Parsed<ast::ModModule>)>> = const { RefCell::new(None) };
}

/// Runs `f` on the module-level statements of `source` (parsed once per file and thread).
pub fn with_module<R>(source: &str, f: impl FnOnce(&[Stmt]) -> R) -> R {
    MODULE.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.as_ref().is_none_or(|(s, _)| s != source) {
            let parsed = ruff_python_parser::parse_unchecked_source(source, ast::PySourceType::Python);
            *slot = Some((source.to_string(), parsed));
        }
        let (_, parsed) = slot.as_ref().expect("just set");
        f(parsed.suite())
    })
}

/// Whether `range` is inside an `assert` statement or the arguments of an `assert*()` call
/// (`self.assertEqual(...)`): there the expression is the subject or the oracle of a test.
pub fn in_assertion(checker: &Checker<'_>, range: TextRange) -> bool {
    struct Finder {
        target: TextRange,
        found: bool,
    }
    impl<'a> Visitor<'a> for Finder {
        fn visit_stmt(&mut self, stmt: &'a Stmt) {
            if !self.found && stmt.range().contains_range(self.target) {
                walk_stmt(self, stmt);
            }
        }
        fn visit_expr(&mut self, expr: &'a Expr) {
            if self.found || !expr.range().contains_range(self.target) {
                return;
            }
            if let Expr::Call(c) = expr {
                let name = match c.func.as_ref() {
                    Expr::Attribute(a) => a.attr.id.as_str(),
                    Expr::Name(n) => n.id.as_str(),
                    _ => "",
                };
                if name.starts_with("assert") || name.starts_with("fail") {
                    self.found = true;
                    return;
                }
            }
            walk_expr(self, expr);
        }
    }
    let ancestors = checker.ancestors();
    if ancestors.iter().any(|s| matches!(s, Stmt::Assert(_))) {
        return true;
    }
    let Some(stmt) = ancestors.last() else { return false };
    let mut finder = Finder { target: range, found: false };
    finder.visit_stmt(stmt);
    finder.found
}

/// The diagnostic of a settled deferred call, at the call, with `message` and `help` and no fix.
pub fn deferred_diagnostic(d: &DeferredCall, message: String, help: String) -> Diagnostic {
    Diagnostic { rule: d.rule, range: d.range, message, help: Some(help), fix: None, function: d.function.clone() }
}
