//! TA205 `threads-for-cpu-work`: threads started on a function that only computes: a
//! `threading.Thread(target=f)` created in a loop or comprehension, or `f` handed to a
//! `ThreadPoolExecutor`'s `submit`/`map` (or a `multiprocessing.pool.ThreadPool`), where `f`
//! is a project function that loops and does no I/O, directly or through what it calls.
//!
//! **Why it is slow**: CPython threads share the global interpreter lock: only one runs Python
//! bytecode at a time, so CPU-bound work split over threads takes as long as a plain loop
//! (plus switching overhead). Processes each have their own interpreter and use every core.
//! Measured on this machine (2 cores, otherwise idle, CPython 3.11; a pure-Python loop of
//! 2,000,000 steps run twice, best of 15 with the pools warmed up): one after the other
//! 0.462 s, `ThreadPoolExecutor(2).map` 0.469 s, `ProcessPoolExecutor(2).map` 0.240 s.
//!
//! **Example**
//! ```python
//! with ThreadPoolExecutor() as ex:
//!     totals = list(ex.map(checksum, chunks))  # checksum loops over bytes, no I/O
//! ```
//! **Fix**: `ProcessPoolExecutor` (same `submit`/`map` API; the function and its arguments must
//! pickle, and the script needs an `if __name__ == "__main__":` guard) or `multiprocessing.Pool`.
//!
//! The verdict needs the whole project (the target may live in another file), so calls are
//! settled after every file is read. Not flagged: a single `Thread` outside a loop (usually
//! there to keep a main loop responsive, not to go faster), threads started in test functions
//! and test classes (stress tests provoking races), lambdas and targets outside the
//! project, functions with any call that may wait (files, sockets, HTTP, queues, locks,
//! sleeps, logging) and functions calling libraries that release the GIL (`numpy`,
//! `hashlib`, `zlib`), where threads do run in parallel.

use std::collections::HashSet;

use ruff_python_ast::{self as ast, Expr};
use ruff_text_size::Ranged;

use crate::checker::{Checker, Diagnostic, Node};
use crate::effects;
use crate::project::{DeferredCall, ProjectIndex};
use crate::registry::Rule;
use crate::rules::helpers::{self, SEP};
use crate::semantic::Value;

/// Thread pools whose `submit`/`map` run a function on threads.
const THREAD_POOLS: &[&str] = &[
    "concurrent.futures.ThreadPoolExecutor",
    "concurrent.futures.thread.ThreadPoolExecutor",
    "multiprocessing.pool.ThreadPool",
    "multiprocessing.dummy.Pool",
];

/// Pool methods whose first argument is the function to run.
const POOL_METHODS: &[&str] =
    &["submit", "map", "imap", "imap_unordered", "starmap", "apply", "apply_async", "map_async", "starmap_async"];

/// The check.
pub fn check(checker: &mut Checker<'_>, node: Node<'_>) {
    let Node::Expr(Expr::Call(call)) = node else { return };
    if in_test(checker) {
        // Tests start threads to provoke races, not to go faster.
        return;
    }
    let (target, kind) = match checker.callee(call).as_deref() {
        Some("threading.Thread") => {
            if !checker.in_loop() {
                // One thread beside the main one: usually for responsiveness, not speed.
                return;
            }
            let Some(target) = call.arguments.find_argument_value("target", 1) else { return };
            (target, "threads".to_string())
        }
        Some(_) => return,
        None => {
            let Expr::Attribute(a) = call.func.as_ref() else { return };
            let method = a.attr.id.as_str();
            if !POOL_METHODS.contains(&method) {
                return;
            }
            let Expr::Name(receiver) = a.value.as_ref() else { return };
            let Some(pool) = thread_pool(checker, receiver.id.as_str()) else { return };
            let Some(target) = call.arguments.args.first() else { return };
            let pool_name = pool.rsplit('.').next().unwrap_or(pool);
            (target, format!("`{}.{method}()` on a {pool_name}", receiver.id.as_str()))
        }
    };
    let target = unwrap_partial(checker, target);
    if matches!(target, Expr::Lambda(_)) {
        return;
    }
    let Some(q) = checker.qualified_name(target) else { return };
    let written = checker.text(target.range());
    checker.defer(Rule::ThreadsForCpuWork, call.range(), q, format!("{kind}{SEP}{written}"));
}

/// Settles a deferred call: flagged when the target is a project function that computes
/// (loops) and never does I/O or calls anything that might.
pub fn settle(d: &DeferredCall, index: &ProjectIndex) -> Option<Diagnostic> {
    if index.is_cpu_only(&d.callee) != Some(true) || may_wait(index, &d.callee, &mut HashSet::new(), 0) {
        return None;
    }
    let (kind, written) = d.detail.split_once(SEP).unwrap_or(("threads", d.detail.as_str()));
    let message = if kind == "threads" {
        format!(
            "Thread target `{written}` only computes (no I/O): threads share the GIL, so these threads run no faster than a loop"
        )
    } else {
        format!(
            "{kind} runs `{written}`, which only computes (no I/O): threads share the GIL, so this runs no faster than a loop"
        )
    };
    let help = "use `concurrent.futures.ProcessPoolExecutor` (same `submit`/`map` API; the function and arguments must pickle) or `multiprocessing.Pool`; threads only pay off for I/O or for code that releases the GIL (numpy, hashlib, zlib)".to_string();
    Some(helpers::deferred_diagnostic(d, message, help))
}

/// Whether the function, or a project function it calls, calls something whose name suggests
/// waiting (`self.sock.recv`, `self.queue.get`): the index records such qualified calls as
/// project names it cannot see.
fn may_wait(index: &ProjectIndex, name: &str, seen: &mut HashSet<String>, depth: usize) -> bool {
    let Some(f) = index.find(name) else { return false };
    if depth > 8 || !seen.insert(f.qualname.clone()) {
        return depth > 8;
    }
    f.calls.iter().any(|c| {
        let last = c.rsplit('.').next().unwrap_or(c);
        effects::is_io_method(last) || effects::blocking(c).is_some() || may_wait(index, c, seen, depth + 1)
    })
}

/// The pool a name is bound to, when every binding is a thread pool.
fn thread_pool(checker: &Checker<'_>, name: &str) -> Option<&'static str> {
    let vals = checker.bindings(name)?;
    let mut found = None;
    for v in vals {
        let (Value::Call(q) | Value::WithItem(Some(q))) = v else { return None };
        found = Some(*THREAD_POOLS.iter().find(|p| **p == q)?);
    }
    found
}

/// Whether the call is in a test function or a test class.
fn in_test(checker: &Checker<'_>) -> bool {
    let test_fn = checker.function().is_some_and(|f| f.def.name.id.as_str().starts_with("test"));
    let test_class = checker.class().is_some_and(|c| {
        let name = c.name.id.as_str();
        name.starts_with("Test") || name.ends_with("Test") || name.ends_with("Tests")
    });
    test_fn || test_class
}

/// `functools.partial(f, ...)` is `f`.
fn unwrap_partial<'e>(checker: &Checker<'_>, expr: &'e Expr) -> &'e Expr {
    if let Expr::Call(ast::ExprCall { func, arguments, .. }) = expr
        && checker.qualified_name(func).as_deref() == Some("functools.partial")
        && let Some(first) = arguments.args.first()
    {
        return first;
    }
    expr
}

#[cfg(test)]
mod tests {
    #[test]
    fn fixture() {
        crate::rules::check_fixture(crate::Rule::ThreadsForCpuWork);
    }
}
