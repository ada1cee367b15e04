//! TA302 `write-per-iteration`: a `for` loop that calls `f.write(...)` with a freshly built
//! piece on every iteration, where `f` is a file from `open()` in binary mode, unbuffered
//! (`buffering=0`) or line-buffered (`buffering=1`).
//!
//! **Why it is slow**: every `write()` on a binary file goes through `BufferedWriter` (a lock,
//! a copy, a flush check); unbuffered and line-buffered files make a system call per write or
//! per line. Joining the pieces and writing once pays that once. Text files with the default
//! buffering are NOT flagged: `TextIOWrapper` already gathers small writes and encodes them in
//! batches, and joining gains nothing there. Measured on this machine (CPython 3.11, 100,000
//! lines like `b"%d\n" % r`, best of 7): binary `"wb"` per-line writes 68.8 ms vs one
//! `f.write(b"".join(parts))` 38.3 ms (1.8x); `buffering=0` 176 ms vs 34.8 ms (5x); text
//! `buffering=1` 332 ms vs 43.5 ms (7.6x); default text mode `"w"` 43.3 ms vs 45.2 ms (no gain).
//!
//! **Example**
//! ```python
//! with open(path, "wb") as f:
//!     for x in values:
//!         f.write(struct.pack("<d", x))
//! ```
//! **Fix**: `f.write(b"".join(struct.pack("<d", x) for x in values))`, or collect the
//! pieces in a list and write them once after the loop (`f.writelines(parts)` costs as much
//! as the separate writes).
//!
//! Not flagged: writes of a plain name, attribute or slice (usually chunks of a stream being
//! copied: joining them would hold the whole stream in memory), loops that also `flush()`,
//! `seek()` or otherwise use the file (the order of effects matters), loops over a literal or
//! a constant `range`, `sys.stdout`, sockets and any file whose mode is not a visible literal.

use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{self as ast, Expr, Stmt};
use ruff_text_size::Ranged;

use crate::checker::{Checker, Node};
use crate::registry::Rule;
use crate::rules::helpers;
use crate::semantic::Value;

/// Why writes to this file are costly.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    /// `open(..., "wb")`: buffered binary.
    Binary,
    /// `buffering=0`.
    Unbuffered,
    /// `buffering=1` in text mode.
    LineBuffered,
}

/// The check.
pub fn check(checker: &mut Checker<'_>, node: Node<'_>) {
    let Node::Stmt(Stmt::For(f)) = node else { return };
    if helpers::few_iterations(&f.iter) {
        return;
    }
    let mut scan = BodyScan { calls: Vec::new(), direct: Vec::new(), depth: 0 };
    for stmt in &f.body {
        scan.visit_stmt(stmt);
    }
    // The first `name.write(<built piece>)` on a file whose other methods are not used here.
    for call in &scan.direct {
        let Expr::Attribute(attr) = call.func.as_ref() else { continue };
        let Expr::Name(file) = attr.value.as_ref() else { continue };
        if attr.attr.id.as_str() != "write" || call.arguments.args.len() != 1 || !call.arguments.keywords.is_empty() {
            continue;
        }
        if !is_built_piece(&call.arguments.args[0]) {
            continue;
        }
        let name = file.id.as_str();
        let other_use = scan.calls.iter().any(|c| {
            matches!(c.func.as_ref(), Expr::Attribute(a) if a.attr.id.as_str() != "write" && matches!(a.value.as_ref(), Expr::Name(n) if n.id.as_str() == name))
        }) || passes_file(&scan.calls, name);
        if other_use {
            return;
        }
        let Some(mode) = file_mode(checker, name) else { return };
        let (why, join) = match mode {
            Mode::Binary => ("each call goes through the buffered writer", "b\"\".join(parts)"),
            Mode::Unbuffered => ("each call is a system call on an unbuffered file", "b\"\".join(parts)"),
            Mode::LineBuffered => ("a line-buffered file flushes every line to the OS", "\"\".join(parts)"),
        };
        checker.report(
            Rule::WritePerIteration,
            call.range(),
            format!("`{name}.write(...)` on every iteration: {why}"),
            Some(format!("collect the pieces in a list `parts` and write once after the loop: `{name}.write({join})`")),
        );
        return;
    }
}

/// Whether a call passes the file to something (`print(x, file=f)`, `json.dump(obj, f)`).
fn passes_file(calls: &[&ast::ExprCall], name: &str) -> bool {
    let is_file = |e: &Expr| matches!(e, Expr::Name(n) if n.id.as_str() == name);
    calls.iter().any(|c| c.arguments.args.iter().any(is_file) || c.arguments.keywords.iter().any(|k| is_file(&k.value)))
}

/// A piece built per iteration: literal, f-string, `%`/`+`, or a formatting/packing call.
fn is_built_piece(arg: &Expr) -> bool {
    match arg {
        Expr::StringLiteral(_) | Expr::BytesLiteral(_) | Expr::FString(_) | Expr::BinOp(_) => true,
        Expr::Call(c) => match c.func.as_ref() {
            Expr::Attribute(a) => matches!(a.attr.id.as_str(), "encode" | "format" | "pack" | "join" | "to_bytes"),
            Expr::Name(n) => matches!(n.id.as_str(), "str" | "repr" | "bytes" | "pack"),
            _ => false,
        },
        _ => false,
    }
}

/// How `name` was opened, when it is bound once by `with open(...) as name` or
/// `name = open(...)` with a literal mode that makes small writes costly.
fn file_mode(checker: &Checker<'_>, name: &str) -> Option<Mode> {
    match checker.bindings(name)? {
        [Value::WithItem(Some(q)) | Value::Call(q)] if matches!(q.as_str(), "open" | "io.open") => {}
        _ => return None,
    }
    let mut open_call = None;
    for stmt in checker.ancestors().iter().rev() {
        if let Stmt::With(w) = stmt {
            for item in &w.items {
                if let (Some(Expr::Name(n)), Expr::Call(c)) = (item.optional_vars.as_deref(), &item.context_expr)
                    && n.id.as_str() == name
                {
                    open_call = Some(c);
                }
            }
        }
        if open_call.is_some() {
            break;
        }
    }
    if open_call.is_none()
        && let Some(func) = checker.function()
    {
        let mut finder = AssignFinder { name, call: None };
        for stmt in &func.def.body {
            finder.visit_stmt(stmt);
        }
        open_call = finder.call;
    }
    let call = open_call?;
    if !checker.callee(call).is_some_and(|q| matches!(q.as_str(), "open" | "io.open")) {
        return None;
    }
    let mode = match call.arguments.find_argument_value("mode", 1) {
        Some(Expr::StringLiteral(s)) => s.value.to_str().to_string(),
        Some(_) => return None,
        None => "r".to_string(),
    };
    if !mode.contains(['w', 'a', 'x', '+']) {
        return None;
    }
    let buffering = match call.arguments.find_argument_value("buffering", 2) {
        Some(Expr::NumberLiteral(n)) => match &n.value {
            ast::Number::Int(i) => i.as_usize(),
            _ => return None,
        },
        Some(Expr::UnaryOp(_)) => None, // -1: the default
        Some(_) => return None,
        None => None,
    };
    match (mode.contains('b'), buffering) {
        (_, Some(0)) => Some(Mode::Unbuffered),
        (false, Some(1)) => Some(Mode::LineBuffered),
        (true, _) => Some(Mode::Binary),
        (false, _) => None,
    }
}

/// Finds `name = open(...)` in a function body.
struct AssignFinder<'n, 'a> {
    name: &'n str,
    call: Option<&'a ast::ExprCall>,
}

impl<'a> Visitor<'a> for AssignFinder<'_, 'a> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        match stmt {
            Stmt::Assign(a) => {
                if let ([Expr::Name(n)], Expr::Call(c)) = (&a.targets[..], a.value.as_ref())
                    && n.id.as_str() == self.name
                {
                    self.call = Some(c);
                }
            }
            Stmt::FunctionDef(_) | Stmt::ClassDef(_) => {}
            _ => visitor::walk_stmt(self, stmt),
        }
    }
}

/// The calls of a loop body (nested definitions excluded): all of them, and those not inside a
/// nested loop (a nested loop is checked on its own).
struct BodyScan<'a> {
    calls: Vec<&'a ast::ExprCall>,
    direct: Vec<&'a ast::ExprCall>,
    depth: usize,
}

impl<'a> Visitor<'a> for BodyScan<'a> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        helpers::walk_loop_body_stmt(self, stmt, |s| &mut s.depth);
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        match expr {
            Expr::Lambda(_) => {}
            Expr::Call(c) => {
                self.calls.push(c);
                if self.depth == 0 {
                    self.direct.push(c);
                }
                visitor::walk_expr(self, expr);
            }
            _ => visitor::walk_expr(self, expr),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn fixture() {
        crate::rules::check_fixture(crate::Rule::WritePerIteration);
    }
}
