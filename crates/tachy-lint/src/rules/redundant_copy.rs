//! TA109 `redundant-copy`: `list(d.keys())`, `x in d.keys()`, `for k in d.keys()`, and a
//! `for x in list(y)` / `tuple(y)` copy that the loop does not need.
//!
//! **Why it is slow**: `d.keys()` allocates a view object only to iterate the dict or test
//! membership, which the dict does directly; `list(y)` before a loop copies every element into
//! a new list (O(n) time and memory) when the loop could walk `y` itself. The gains are modest,
//! and the `.keys()` ones are mostly about clarity. Measured on this machine (CPython 3.11,
//! `python -m timeit -r 9`, 1,000 items, two runs): `500 in d.keys()` 159 / 103 ns vs
//! `500 in d` 86.4 / 58.6 ns (1.8x); `for k in list(y): pass` 15.8 / 11.0 µs vs
//! `for k in y: pass` 13.2 / 9.13 µs (1.2x); `list(d.keys())` vs `list(d)` equal within noise
//! (9.24 vs 9.62 µs, then 13.9 vs 11.6 µs): one view allocation per call; `for k in d.keys()`
//! likewise pays once per loop, not per item.
//!
//! **Example**
//! ```python
//! if name in options.keys():
//!     ...
//! for item in list(pending):
//!     print(item)
//! ```
//! **Fix**: `name in options`, `for item in pending:`.
//!
//! The `.keys()` fixes are safe when the receiver is known to be a dict. For other receivers
//! they are unsafe: some objects with a `keys()` method iterate over something else
//! (`sqlite3.Row` and pandas `Series` iterate values, `dbm` objects may not iterate at all).
//! Never flagged: `self.keys()` and `super().keys()` (inside a mapping class, `__iter__` or
//! `__contains__` is often written in terms of `keys()`), `.keys()` under
//! `if hasattr(obj, "keys")` (duck typing: `obj` is only known to have the method), and
//! `.keys()` inside `assert` or `self.assert*(...)` (the test exercises `keys()` itself). `for x in list(y)` is flagged only when `y` is a local
//! name bound only to fresh containers (literals, comprehensions, `list()`/`dict()`/`sorted()`
//! ... calls), never passed to anything that could keep or change it before or during the loop,
//! and the loop body does not mutate it (`y.append/remove/pop/...`, `del y[...]`,
//! `y[...] = ...`, rebinding); or when `y` is immutable (a tuple or string) or a `range(...)`.
//! Copies of parameters, attributes and globals are left alone: another reference could change
//! them during the loop, and the copy is the usual defence.

use ruff_python_ast::visitor::{Visitor, walk_expr, walk_stmt};
use ruff_python_ast::{self as ast, CmpOp, Expr, ExprContext, Stmt};
use ruff_text_size::{Ranged, TextRange};

use crate::checker::{Checker, Edit, Fix, Node};
use crate::registry::Rule;
use crate::rules::helpers;
use crate::semantic::Value;

/// The check.
pub fn check(checker: &mut Checker<'_>, node: Node<'_>) {
    match node {
        Node::Expr(Expr::Call(call)) => check_copy_of_keys(checker, call),
        Node::Expr(Expr::Compare(cmp)) => check_in_keys(checker, cmp),
        Node::Stmt(Stmt::For(f)) if !f.is_async && !check_for_keys(checker, f) => check_for_copy(checker, f),
        _ => {}
    }
}

/// `d.keys()` with no arguments, on a receiver that is not `self`/`cls`: the receiver.
fn keys_receiver(expr: &Expr) -> Option<&Expr> {
    let Expr::Call(call) = expr else { return None };
    let Expr::Attribute(attr) = call.func.as_ref() else { return None };
    if attr.attr.id.as_str() != "keys" || !call.arguments.is_empty() {
        return None;
    }
    let receiver = attr.value.as_ref();
    if matches!(receiver, Expr::Name(n) if matches!(n.id.as_str(), "self" | "cls")) {
        return None;
    }
    Some(receiver)
}

/// Whether a `.keys()` call at `range` on `receiver` is deliberate: inside an assertion (the
/// test exercises `keys()` itself), on `super()`, or under `if hasattr(receiver, "keys")`
/// (duck typing: the object is only known to have a `keys()` method).
fn deliberate_keys(checker: &Checker<'_>, receiver: &Expr, range: TextRange) -> bool {
    if matches!(receiver, Expr::Call(c) if matches!(c.func.as_ref(), Expr::Name(n) if n.id.as_str() == "super")) {
        return true;
    }
    let text = checker.text(receiver.range());
    let guarded = checker.ancestors().iter().any(|s| {
        let Stmt::If(i) = s else { return false };
        let tests = std::iter::once(i.test.as_ref()).chain(i.elif_else_clauses.iter().filter_map(|c| c.test.as_ref()));
        tests.into_iter().any(|t| {
            let mut found = false;
            helpers::visit_exprs(t, &mut |e| {
                if let Expr::Call(c) = e
                    && matches!(c.func.as_ref(), Expr::Name(n) if n.id.as_str() == "hasattr")
                    && let [obj, Expr::StringLiteral(attr)] = &c.arguments.args[..]
                    && attr.value.to_str() == "keys"
                    && checker.text(obj.range()) == text
                {
                    found = true;
                }
            });
            found
        })
    });
    guarded || helpers::in_assertion(checker, range)
}

/// Whether the receiver is known to be a dict (so the fix is safe).
fn is_dict(checker: &Checker<'_>, receiver: &Expr) -> bool {
    match receiver {
        Expr::Name(n) => {
            checker.bindings(n.id.as_str()).is_some_and(|vs| !vs.is_empty() && vs.iter().all(Value::is_dict))
        }
        other => checker.value(other).is_some_and(|v| v.is_dict()),
    }
}

/// The receiver's source text, parenthesized unless it is an atom or a primary.
fn receiver_text(checker: &Checker<'_>, receiver: &Expr) -> String {
    let text = checker.text(receiver.range());
    let primary = matches!(
        receiver,
        Expr::Name(_)
            | Expr::Attribute(_)
            | Expr::Call(_)
            | Expr::Subscript(_)
            | Expr::Dict(_)
            | Expr::DictComp(_)
            | Expr::List(_)
    );
    if primary { text.to_string() } else { format!("({text})") }
}

/// "for a dict, " when the receiver's type is not known.
fn hedge(known_dict: bool) -> &'static str {
    if known_dict { "" } else { "for a dict, " }
}

fn short(text: &str) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() > 40 {
        format!("{}...", one_line.chars().take(37).collect::<String>())
    } else {
        one_line
    }
}

/// `list(d.keys())` (and `tuple`, `set`, `sorted`) -> `list(d)`.
fn check_copy_of_keys(checker: &mut Checker<'_>, call: &ast::ExprCall) {
    let args = &call.arguments;
    if args.args.len() != 1 || !args.keywords.is_empty() {
        return;
    }
    let Some(receiver) = keys_receiver(&args.args[0]) else { return };
    if deliberate_keys(checker, receiver, call.range()) {
        return;
    }
    let Some(callee) = checker.callee(call) else { return };
    let callee = callee.strip_prefix("builtins.").unwrap_or(&callee).to_string();
    if !matches!(callee.as_str(), "list" | "tuple" | "set" | "sorted") {
        return;
    }
    let safe = is_dict(checker, receiver);
    let d = receiver_text(checker, receiver);
    let shown = short(&d);
    let keys_range = args.args[0].range();
    let diag = checker.report(
        Rule::RedundantCopy,
        call.range(),
        format!(
            "`{callee}({shown}.keys())` makes a keys view only to copy it: {}`{callee}({shown})` gives the same keys",
            hedge(safe)
        ),
        Some(format!("use `{callee}({shown})`")),
    );
    diag.fix =
        Some(Fix { message: "Drop `.keys()`".to_string(), safe, edits: vec![Edit { range: keys_range, content: d }] });
}

/// `x in d.keys()` -> `x in d`.
fn check_in_keys(checker: &mut Checker<'_>, cmp: &ast::ExprCompare) {
    for (op, right) in cmp.ops.iter().zip(cmp.comparators.iter()) {
        if !matches!(op, CmpOp::In | CmpOp::NotIn) {
            continue;
        }
        let Some(receiver) = keys_receiver(right) else { continue };
        if deliberate_keys(checker, receiver, cmp.range) {
            continue;
        }
        let safe = is_dict(checker, receiver);
        let d = receiver_text(checker, receiver);
        let shown = short(&d);
        let op_text = if *op == CmpOp::In { "in" } else { "not in" };
        let range = right.range();
        let diag = checker.report(
            Rule::RedundantCopy,
            cmp.range,
            format!("`{op_text} {shown}.keys()` goes through a keys view: {}`{op_text} {shown}` is the same test, without it", hedge(safe)),
            Some(format!("test `{op_text} {shown}` directly")),
        );
        diag.fix = Some(Fix { message: "Drop `.keys()`".to_string(), safe, edits: vec![Edit { range, content: d }] });
    }
}

/// `for k in d.keys():` -> `for k in d:`. Returns whether it reported.
fn check_for_keys(checker: &mut Checker<'_>, f: &ast::StmtFor) -> bool {
    let Some(receiver) = keys_receiver(&f.iter) else { return false };
    if deliberate_keys(checker, receiver, f.iter.range()) {
        return true;
    }
    let safe = is_dict(checker, receiver);
    let d = receiver_text(checker, receiver);
    let shown = short(&d);
    let range = f.iter.range();
    let diag = checker.report(
        Rule::RedundantCopy,
        range,
        format!(
            "`for ... in {shown}.keys()` makes a keys view to iterate: {}iterating `{shown}` yields the same keys",
            hedge(safe)
        ),
        Some(format!("iterate `{shown}` directly")),
    );
    diag.fix = Some(Fix { message: "Drop `.keys()`".to_string(), safe, edits: vec![Edit { range, content: d }] });
    true
}

/// Bindings that create a new object the function alone holds.
fn is_fresh(v: &Value) -> bool {
    match v {
        Value::List
        | Value::Tuple
        | Value::Set
        | Value::Dict
        | Value::ListComp
        | Value::SetComp
        | Value::DictComp
        | Value::Str
        | Value::Bytes => true,
        Value::Call(q) => {
            matches!(q.as_str(), "list" | "tuple" | "set" | "frozenset" | "dict" | "sorted" | "str" | "range")
        }
        _ => false,
    }
}

/// Bindings whose iteration nothing can disturb.
fn is_immutable(v: &Value) -> bool {
    match v {
        Value::Tuple | Value::Str | Value::Bytes => true,
        Value::Call(q) => matches!(q.as_str(), "tuple" | "frozenset" | "str" | "range"),
        _ => false,
    }
}

/// `for x in list(y):` where the copy is not needed -> `for x in y:`.
fn check_for_copy(checker: &mut Checker<'_>, f: &ast::StmtFor) {
    let Expr::Call(call) = f.iter.as_ref() else { return };
    let args = &call.arguments;
    if args.args.len() != 1 || !args.keywords.is_empty() {
        return;
    }
    let Some(callee) = checker.callee(call) else { return };
    let callee = callee.strip_prefix("builtins.").unwrap_or(&callee).to_string();
    if !matches!(callee.as_str(), "list" | "tuple") {
        return;
    }
    let arg = &args.args[0];
    let (shown, content) = match arg {
        // `range` objects are immutable.
        Expr::Call(inner) if checker.callee(inner).as_deref() == Some("range") => {
            let t = checker.text(arg.range());
            (short(t), t.to_string())
        }
        Expr::Name(n) => {
            let id = n.id.as_str();
            let Some(bindings) = checker.bindings(id) else { return };
            if bindings.is_empty() {
                return;
            }
            let immutable = bindings.iter().all(is_immutable);
            if !immutable {
                if !checker.is_local(id) || !bindings.iter().all(is_fresh) {
                    return;
                }
                let Some(func) = checker.function() else { return };
                // Up to where an escape or mutation matters: the loop's end, or the whole
                // function when an outer loop comes back to it.
                let horizon = if checker.loop_depth() > 0 { func.def.range.end() } else { f.range.end() };
                if disturbed(&func.def.body, id, f.range, horizon) {
                    return;
                }
            }
            (id.to_string(), id.to_string())
        }
        _ => return,
    };
    let range = f.iter.range();
    let diag = checker.report(
        Rule::RedundantCopy,
        range,
        format!("`{callee}({shown})` copies `{shown}` before the loop, but nothing changes `{shown}` while it runs"),
        Some(format!("iterate `{shown}` directly: `for ... in {shown}:`")),
    );
    diag.fix =
        Some(Fix { message: "Iterate without copying".to_string(), safe: true, edits: vec![Edit { range, content }] });
}

/// Methods that only read their receiver.
const READ_METHODS: &[&str] = &[
    "count",
    "index",
    "copy",
    "get",
    "keys",
    "values",
    "items",
    "startswith",
    "endswith",
    "find",
    "rfind",
    "split",
    "rsplit",
    "join",
    "strip",
    "lstrip",
    "rstrip",
    "lower",
    "upper",
    "format",
    "encode",
    "decode",
    "replace",
    "issubset",
    "issuperset",
    "union",
    "intersection",
    "difference",
    "symmetric_difference",
    "isdisjoint",
    "__contains__",
    "__len__",
    "__getitem__",
];

/// Builtins that only read an argument (and do not keep it).
const READ_CALLS: &[&str] = &[
    "len",
    "list",
    "tuple",
    "set",
    "frozenset",
    "sorted",
    "sum",
    "min",
    "max",
    "any",
    "all",
    "str",
    "repr",
    "print",
    "bool",
    "isinstance",
    "dict",
    "id",
    "hash",
    "format",
];

/// Whether `id` may change during the loop at `loop_range`: mutated in the loop body, rebound
/// there, or escaping (stored, passed to a call, captured by a nested scope) anywhere before
/// `horizon`.
fn disturbed(body: &[Stmt], id: &str, loop_range: TextRange, horizon: ruff_text_size::TextSize) -> bool {
    struct Finder<'n> {
        id: &'n str,
        loop_range: TextRange,
        horizon: ruff_text_size::TextSize,
        accounted: Vec<TextRange>,
        nested: usize,
        bad: bool,
    }
    impl Finder<'_> {
        fn is_id(&self, e: &Expr) -> bool {
            is_name(e, self.id)
        }
        fn in_loop(&self, r: TextRange) -> bool {
            self.loop_range.contains_range(r)
        }
    }
    impl<'a> Visitor<'a> for Finder<'_> {
        fn visit_stmt(&mut self, stmt: &'a Stmt) {
            if stmt.start() >= self.horizon || self.bad {
                return;
            }
            match stmt {
                Stmt::FunctionDef(_) | Stmt::ClassDef(_) => {
                    self.nested += 1;
                    walk_stmt(self, stmt);
                    self.nested -= 1;
                    return;
                }
                Stmt::For(f) if self.is_id(&f.iter) => self.accounted.push(f.iter.range()),
                Stmt::AugAssign(a) if self.is_id(&a.target) && self.in_loop(a.range) => self.bad = true,
                Stmt::Global(g) if g.names.iter().any(|n| n.id.as_str() == self.id) => self.bad = true,
                Stmt::Nonlocal(g) if g.names.iter().any(|n| n.id.as_str() == self.id) => self.bad = true,
                _ => {}
            }
            walk_stmt(self, stmt);
        }
        fn visit_expr(&mut self, expr: &'a Expr) {
            if self.bad || expr.start() >= self.horizon {
                return;
            }
            match expr {
                Expr::Lambda(_) => {
                    self.nested += 1;
                    walk_expr(self, expr);
                    self.nested -= 1;
                    return;
                }
                Expr::Call(c) => {
                    if let Expr::Attribute(a) = c.func.as_ref()
                        && self.is_id(&a.value)
                    {
                        self.accounted.push(a.value.range());
                        if !READ_METHODS.contains(&a.attr.id.as_str()) && self.in_loop(c.range()) {
                            self.bad = true;
                        }
                    }
                    if let Expr::Name(f) = c.func.as_ref()
                        && READ_CALLS.contains(&f.id.as_str())
                    {
                        let id = self.id;
                        for a in c.arguments.args.iter().filter(|a| is_name(a, id)) {
                            self.accounted.push(a.range());
                        }
                    }
                }
                Expr::Attribute(a) if self.is_id(&a.value) => {
                    self.accounted.push(a.value.range());
                    if !matches!(a.ctx, ExprContext::Load) && self.in_loop(a.range) {
                        self.bad = true;
                    }
                }
                Expr::Subscript(s) if self.is_id(&s.value) => {
                    self.accounted.push(s.value.range());
                    if !matches!(s.ctx, ExprContext::Load) && self.in_loop(s.range) {
                        self.bad = true;
                    }
                }
                Expr::Compare(c) => {
                    let id = self.id;
                    for e in std::iter::once(c.left.as_ref()).chain(c.comparators.iter()).filter(|e| is_name(e, id)) {
                        self.accounted.push(e.range());
                    }
                }
                Expr::ListComp(ast::ExprListComp { generators, .. })
                | Expr::SetComp(ast::ExprSetComp { generators, .. })
                | Expr::Generator(ast::ExprGenerator { generators, .. }) => {
                    let id = self.id;
                    for g in generators.iter().filter(|g| is_name(&g.iter, id)) {
                        self.accounted.push(g.iter.range());
                    }
                }
                Expr::DictComp(ast::ExprDictComp { generators, .. }) => {
                    let id = self.id;
                    for g in generators.iter().filter(|g| is_name(&g.iter, id)) {
                        self.accounted.push(g.iter.range());
                    }
                }
                Expr::Name(n) if n.id.as_str() == self.id => {
                    let stored = !matches!(n.ctx, ExprContext::Load);
                    if self.nested > 0 {
                        // Captured (or rebound) by a nested function: it may run at any time.
                        self.bad = true;
                    } else if stored {
                        // Rebinding inside the loop.
                        self.bad |= self.in_loop(n.range);
                    } else if !self.accounted.contains(&n.range) {
                        // Stored elsewhere, passed to a call, returned...: an alias may change it.
                        self.bad = true;
                    }
                }
                _ => {}
            }
            walk_expr(self, expr);
        }
    }
    let mut finder = Finder { id, loop_range, horizon, accounted: Vec::new(), nested: 0, bad: false };
    finder.visit_body(body);
    finder.bad
}

fn is_name(e: &Expr, id: &str) -> bool {
    matches!(e, Expr::Name(n) if n.id.as_str() == id)
}

#[cfg(test)]
mod tests {
    #[test]
    fn fixture() {
        crate::rules::check_fixture(crate::Rule::RedundantCopy);
    }
}
