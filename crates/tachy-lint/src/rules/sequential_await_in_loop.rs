//! TA203 `sequential-await-in-loop`: a `for` loop in `async def` that awaits a call on each
//! item and keeps the result, where the iterations do not depend on each other.
//!
//! **Why it is slow**: each `await` waits for its call to finish before the next iteration
//! starts it, so the waits add up: n requests of latency t take n × t. Started together they
//! overlap and take about t. Measured on this machine (CPython 3.11, 20 calls each waiting
//! 10 ms with `asyncio.sleep` as a stand-in for network latency): the loop 203.4 ms,
//! `asyncio.gather` 10.7 ms.
//!
//! **Example**
//! ```python
//! results = []
//! for u in urls:
//!     r = await fetch(u)
//!     results.append(r)
//! ```
//! **Fix**: `results = await asyncio.gather(*(fetch(u) for u in urls))`, or create one task
//! per item in an `asyncio.TaskGroup`; cap the concurrency with an `asyncio.Semaphore` when
//! the input is long.
//!
//! Flagged only when the iterations are visibly independent: the awaited call uses the loop
//! variable (or a name computed from it), its result is kept (an assignment, an argument,
//! a condition), no variable read before the `await` is reassigned at or after it (a cursor or
//! offset carried to the next iteration), and the body has no `break`, `return`, `yield` or
//! `assert`. Test functions (`test*`) are skipped: they check cases one at a time on purpose.
//! Not flagged: loops that also `await ...sleep(...)` (deliberate pacing), `await f(x)` as a
//! bare statement (effects whose order may matter: sends, writes, migrations), bodies under
//! an `async with` lock or semaphore, loops over a list they append to (work lists), and
//! methods of a shared object other than HTTP verbs (`conn.fetch`, `ws.send`, `queue.put`: a
//! connection or stream often allows one operation at a time).

use std::collections::{HashMap, HashSet};

use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{self as ast, Expr, ExprContext, Stmt};
use ruff_text_size::Ranged;

use crate::checker::{Checker, Node};
use crate::registry::Rule;
use crate::semantic::dotted;

/// Methods of a shared receiver that are safe to run concurrently (HTTP clients).
const CONCURRENT_METHODS: &[&str] =
    &["get", "post", "put", "patch", "delete", "head", "options", "request", "run_in_executor"];

/// Methods that mutate their receiver (a store, for the dependency analysis).
const MUTATING_METHODS: &[&str] = &[
    "append",
    "extend",
    "insert",
    "add",
    "update",
    "pop",
    "popleft",
    "appendleft",
    "remove",
    "discard",
    "clear",
    "setdefault",
    "put_nowait",
];

/// The check.
pub fn check(checker: &mut Checker<'_>, node: Node<'_>) {
    let Node::Stmt(Stmt::For(for_stmt)) = node else { return };
    if for_stmt.is_async || !checker.in_async() {
        return;
    }
    if checker.function().is_some_and(|f| f.def.name.id.as_str().starts_with("test")) {
        // Tests check their cases one at a time on purpose.
        return;
    }
    let mut loop_vars = HashSet::new();
    target_names(&for_stmt.target, &mut loop_vars);
    if loop_vars.is_empty() {
        return;
    }

    let mut body = Usage::default();
    body.visit_body(&for_stmt.body);
    if body.bail {
        return;
    }
    if dotted(&for_stmt.iter).is_some_and(|it| body.first_store.contains_key(&it)) {
        // A work list the body appends to.
        return;
    }
    // Deliberate pacing anywhere in the body.
    if body.awaits.iter().any(|a| callee_is_sleep(a.call)) {
        return;
    }

    for candidate in body.awaits.iter().filter(|a| !a.nested && !a.bare) {
        let call = candidate.call;
        // Names computed from the loop variable before this await.
        let derived = derived_names(&body, &loop_vars, candidate.start);
        if !acceptable_callee(checker, call, &derived) {
            continue;
        }
        let mut reader = Usage::default();
        reader.visit_expr(&call.func);
        reader.visit_arguments(&call.arguments);
        if !reader.first_read.keys().any(|r| derived.contains(r)) {
            continue;
        }
        // The call can be gathered as written when it only needs the loop variables.
        let direct = reader.first_read.keys().all(|r| loop_vars.contains(r) || !derived.contains(r));
        // State carried from one iteration to the next: a name read before the await, before
        // any store to it in this iteration (so it sees the previous iteration's value), and
        // stored somewhere in the body.
        let carried = body.first_read.iter().any(|(name, &read)| {
            read < candidate.seq
                && !loop_vars.contains(name)
                && body.first_store.get(name).is_some_and(|&store| read < store)
        });
        if carried {
            return;
        }
        report(checker, for_stmt, candidate, direct);
        return;
    }
}

fn report(checker: &mut Checker<'_>, for_stmt: &ast::StmtFor, candidate: &AwaitSite<'_>, direct: bool) {
    let call = candidate.call;
    let func = checker.text(call.func.range());
    let call_text = checker.text(call.range());
    let iter = checker.text(for_stmt.iter.range());
    let target = checker.text(for_stmt.target.range());
    let short = |s: &str| !s.contains('\n') && s.len() <= 60;
    let shown_call = if short(call_text) { call_text.to_string() } else { format!("{func}(...)") };
    let over = if short(iter) { format!("`{iter}`") } else { "the loop".to_string() };
    let fits = short(iter) && short(target);
    let gather = if direct && short(call_text) && fits {
        format!(
            "`await asyncio.gather(*({call_text} for {target} in {iter}))` (move the rest of the loop body into a coroutine if it does more)"
        )
    } else if fits {
        format!(
            "move the loop body into a coroutine `one({target})` and `await asyncio.gather(*(one({target}) for {target} in {iter}))`"
        )
    } else {
        "`await asyncio.gather(...)` over a generator of the calls".to_string()
    };
    checker.report(
        Rule::SequentialAwaitInLoop,
        candidate.range,
        format!(
            "`await {shown_call}` runs once per item of {over}, each waiting for the previous one, though the iterations are independent"
        ),
        Some(format!(
            "start them together: {gather}, or one task per item in an `asyncio.TaskGroup`; cap concurrency with an `asyncio.Semaphore` for long inputs"
        )),
    );
}

/// Whether the callee is a `sleep` (rate limiting is deliberate).
fn callee_is_sleep(call: &ast::ExprCall) -> bool {
    match call.func.as_ref() {
        Expr::Name(n) => n.id.as_str() == "sleep",
        Expr::Attribute(a) => a.attr.id.as_str() == "sleep",
        _ => false,
    }
}

/// Plain functions, `self` methods, module functions, methods of a per-item object (the loop
/// variable or a name computed from it) and HTTP verbs of a shared client; not other methods
/// of a shared object (a connection, a stream).
fn acceptable_callee(checker: &Checker<'_>, call: &ast::ExprCall, derived: &HashSet<String>) -> bool {
    match call.func.as_ref() {
        Expr::Name(_) => true,
        Expr::Attribute(a) => {
            let method = a.attr.id.as_str();
            match a.value.as_ref() {
                Expr::Name(n) if matches!(n.id.as_str(), "self" | "cls") => true,
                Expr::Name(n) if derived.contains(n.id.as_str()) => true,
                // A module function (`asyncio.wait_for`, `api.download`).
                receiver if checker.qualified_name(receiver).is_some() && !matches!(receiver, Expr::Attribute(_)) => {
                    method != "wait"
                }
                _ => CONCURRENT_METHODS.contains(&method),
            }
        }
        _ => false,
    }
}

/// The loop variables plus names assigned, before `before`, from values using them.
fn derived_names(body: &Usage<'_>, loop_vars: &HashSet<String>, before: u32) -> HashSet<String> {
    let mut derived = loop_vars.clone();
    for (start, reads, targets) in &body.bindings {
        if *start < before && reads.iter().any(|r| derived.contains(r)) {
            derived.extend(targets.iter().cloned());
        }
    }
    derived
}

fn target_names(target: &Expr, out: &mut HashSet<String>) {
    match target {
        Expr::Name(n) => {
            out.insert(n.id.to_string());
        }
        Expr::Tuple(t) => t.elts.iter().for_each(|e| target_names(e, out)),
        Expr::List(t) => t.elts.iter().for_each(|e| target_names(e, out)),
        Expr::Starred(s) => target_names(&s.value, out),
        _ => {}
    }
}

/// Every name and dotted chain an expression reads.
fn reads_of(expr: &Expr, out: &mut HashSet<String>) {
    let mut u = Usage::default();
    u.visit_expr(expr);
    out.extend(u.first_read.into_keys());
}

/// An `await` of a call found in the loop body.
struct AwaitSite<'a> {
    call: &'a ast::ExprCall,
    range: ruff_text_size::TextRange,
    start: u32,
    /// Event number once the awaited call's arguments are evaluated.
    seq: u32,
    /// Inside a nested loop or comprehension (not once per iteration of this loop).
    nested: bool,
    /// The whole statement (`await f(x)`): its effect is the point, its order may matter.
    bare: bool,
}

/// What the loop body reads, stores and awaits. Reads and stores are numbered in evaluation
/// order (approximated by the walk: an assignment's value before its targets).
#[derive(Default)]
struct Usage<'a> {
    seq: u32,
    /// First read of each name or dotted chain.
    first_read: HashMap<String, u32>,
    /// First store (assignment, mutating method call) of each name or dotted chain.
    first_store: HashMap<String, u32>,
    awaits: Vec<AwaitSite<'a>>,
    /// (offset, names the value reads, names bound) for each binding, in source order.
    bindings: Vec<(u32, HashSet<String>, Vec<String>)>,
    depth: usize,
    bail: bool,
}

impl<'a> Usage<'a> {
    fn read(&mut self, name: String) {
        self.seq += 1;
        self.first_read.entry(name).or_insert(self.seq);
    }

    fn store(&mut self, name: String) {
        self.seq += 1;
        self.first_store.entry(name).or_insert(self.seq);
    }

    fn store_target(&mut self, target: &'a Expr) {
        match target {
            Expr::Name(n) => {
                self.store(n.id.to_string());
            }
            Expr::Attribute(a) => {
                if let Some(d) = dotted(target) {
                    self.store(d);
                }
                self.visit_expr(&a.value);
            }
            Expr::Subscript(s) => {
                if let Some(d) = dotted(&s.value) {
                    self.store(d);
                } else {
                    self.visit_expr(&s.value);
                }
                self.visit_expr(&s.slice);
            }
            Expr::Tuple(t) => t.elts.iter().for_each(|e| self.store_target(e)),
            Expr::List(t) => t.elts.iter().for_each(|e| self.store_target(e)),
            Expr::Starred(s) => self.store_target(&s.value),
            other => self.visit_expr(other),
        }
    }

    fn binding(&mut self, start: u32, value: &'a Expr, targets: &[&'a Expr]) {
        let mut reads = HashSet::new();
        reads_of(value, &mut reads);
        let mut names = HashSet::new();
        for t in targets {
            target_names(t, &mut names);
        }
        self.bindings.push((start, reads, names.into_iter().collect()));
    }
}

impl<'a> Visitor<'a> for Usage<'a> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        if self.bail {
            return;
        }
        let start = stmt.start().to_u32();
        match stmt {
            Stmt::FunctionDef(_) | Stmt::ClassDef(_) => {}
            // `assert`: cases checked one by one (tests), where the order of failures matters.
            Stmt::Return(_) | Stmt::Assert(_) => self.bail = true,
            Stmt::Break(_) if self.depth == 0 => self.bail = true,
            Stmt::Assign(a) => {
                self.visit_expr(&a.value);
                self.binding(start, &a.value, &a.targets.iter().collect::<Vec<_>>());
                a.targets.iter().for_each(|t| self.store_target(t));
            }
            Stmt::AnnAssign(a) => {
                if let Some(v) = &a.value {
                    self.visit_expr(v);
                    self.binding(start, v, &[&a.target]);
                    self.store_target(&a.target);
                }
            }
            Stmt::AugAssign(a) => {
                self.visit_expr(&a.value);
                if let Some(d) = dotted(&a.target) {
                    self.read(d);
                }
                self.store_target(&a.target);
            }
            Stmt::Expr(e) => {
                if let Expr::Await(aw) = e.value.as_ref()
                    && let Expr::Call(call) = aw.value.as_ref()
                {
                    let before = self.awaits.len();
                    self.visit_expr(&e.value);
                    if let Some(site) = self.awaits.get_mut(before).filter(|s| s.call.range() == call.range()) {
                        site.bare = true;
                    }
                } else {
                    self.visit_expr(&e.value);
                }
            }
            Stmt::For(f) => {
                self.visit_expr(&f.iter);
                self.binding(start, &f.iter, &[&f.target]);
                self.store_target(&f.target);
                self.depth += 1;
                self.visit_body(&f.body);
                self.depth -= 1;
                self.visit_body(&f.orelse);
            }
            Stmt::While(w) => {
                self.visit_expr(&w.test);
                self.depth += 1;
                self.visit_body(&w.body);
                self.depth -= 1;
                self.visit_body(&w.orelse);
            }
            Stmt::With(w) => {
                for item in &w.items {
                    if w.is_async && !matches!(item.context_expr, Expr::Call(_)) {
                        // `async with lock:` / `async with self._sem:` serialises on purpose.
                        self.bail = true;
                        return;
                    }
                    self.visit_expr(&item.context_expr);
                    if let Some(vars) = &item.optional_vars {
                        self.binding(start, &item.context_expr, &[vars]);
                        self.store_target(vars);
                    }
                }
                self.visit_body(&w.body);
            }
            _ => visitor::walk_stmt(self, stmt),
        }
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        if self.bail {
            return;
        }
        match expr {
            Expr::Lambda(_) => {}
            Expr::Yield(_) | Expr::YieldFrom(_) => self.bail = true,
            Expr::Name(n) => {
                if n.ctx == ExprContext::Load {
                    self.read(n.id.to_string());
                } else {
                    self.store(n.id.to_string());
                }
            }
            Expr::Attribute(a) => {
                if let Some(d) = dotted(expr) {
                    if a.ctx == ExprContext::Load {
                        self.read(d);
                    } else {
                        self.store(d);
                    }
                }
                visitor::walk_expr(self, expr);
            }
            Expr::Named(n) => {
                self.visit_expr(&n.value);
                self.binding(n.start().to_u32(), &n.value, &[&n.target]);
                self.store_target(&n.target);
            }
            Expr::Call(call) => {
                if let Expr::Attribute(a) = call.func.as_ref()
                    && MUTATING_METHODS.contains(&a.attr.id.as_str())
                    && let Some(receiver) = dotted(&a.value)
                {
                    // `results.append(x)`: a store on `results`, not a read of it.
                    self.store(receiver);
                    self.visit_arguments(&call.arguments);
                } else {
                    visitor::walk_expr(self, expr);
                }
            }
            Expr::Await(aw) => {
                let index = self.awaits.len();
                if let Expr::Call(call) = aw.value.as_ref() {
                    self.awaits.push(AwaitSite {
                        call,
                        range: aw.range,
                        start: aw.start().to_u32(),
                        seq: 0,
                        nested: self.depth > 0,
                        bare: false,
                    });
                }
                visitor::walk_expr(self, expr);
                self.seq += 1;
                if let Some(site) = self.awaits.get_mut(index) {
                    site.seq = self.seq;
                }
            }
            Expr::ListComp(_) | Expr::SetComp(_) | Expr::DictComp(_) | Expr::Generator(_) => {
                self.depth += 1;
                visitor::walk_expr(self, expr);
                self.depth -= 1;
            }
            _ => visitor::walk_expr(self, expr),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn fixture() {
        crate::rules::check_fixture(crate::Rule::SequentialAwaitInLoop);
    }
}
