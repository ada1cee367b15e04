//! TA204 `dangling-task`: `asyncio.create_task(...)`, `asyncio.ensure_future(...)` or
//! `loop.create_task(...)` used as a statement, so the task object is thrown away.
//!
//! **Why it costs**: the event loop keeps only weak references to tasks (`asyncio` docs:
//! "Save a reference to the result of this function, to avoid a task disappearing
//! mid-execution"). A task nobody references can be garbage-collected while it waits, and
//! its work silently stops; its exception, if any, is only logged at collection time. No
//! micro-benchmark fits: the failure depends on when the collector runs, which is why it
//! shows up in production and not in tests.
//!
//! **Example**
//! ```python
//! asyncio.create_task(send_metrics(batch))
//! ```
//! **Fix**: keep a strong reference until the task is done:
//! ```python
//! background_tasks = set()
//! task = asyncio.create_task(send_metrics(batch))
//! background_tasks.add(task)
//! task.add_done_callback(background_tasks.discard)
//! ```
//! or create it in an `async with asyncio.TaskGroup() as tg:` block, which holds its tasks.
//!
//! Not flagged: `tg.create_task(...)` on a `TaskGroup` (or any receiver not known to be an
//! event loop: a nursery, a custom scheduler), `ensure_future(x)` of a name (it may already be
//! a task kept elsewhere), and tasks whose result is assigned, returned or passed on.

use ruff_python_ast::{self as ast, Expr, Stmt};
use ruff_text_size::Ranged;

use crate::checker::{Checker, Node};
use crate::registry::Rule;
use crate::semantic::Value;

/// The check.
pub fn check(checker: &mut Checker<'_>, node: Node<'_>) {
    let Node::Stmt(Stmt::Expr(stmt)) = node else { return };
    let Expr::Call(call) = stmt.value.as_ref() else { return };
    let spawner = match checker.callee(call).as_deref() {
        Some("asyncio.create_task" | "asyncio.tasks.create_task") => "asyncio.create_task",
        Some("asyncio.ensure_future" | "asyncio.tasks.ensure_future") => {
            // A coroutine call makes a new task; a name may be an existing task or future.
            if !matches!(call.arguments.args.first(), Some(Expr::Call(_))) {
                return;
            }
            "asyncio.ensure_future"
        }
        _ => {
            let Expr::Attribute(a) = call.func.as_ref() else { return };
            if a.attr.id.as_str() != "create_task" || !is_event_loop(checker, &a.value) {
                return;
            }
            "create_task"
        }
    };
    let written = checker.text(call.func.range());
    checker.report(
        Rule::DanglingTask,
        call.range(),
        format!(
            "Task returned by `{written}()` is discarded: the event loop holds only a weak reference to it, so it can be garbage-collected before it finishes"
        ),
        Some(format!(
            "keep a reference until it is done: `task = {written}(...)`, `background_tasks.add(task)`, `task.add_done_callback(background_tasks.discard)` with a long-lived `background_tasks = set()`, or create it in an `asyncio.TaskGroup`{}",
            if spawner == "asyncio.ensure_future" { " (and prefer `asyncio.create_task` for coroutines)" } else { "" }
        )),
    );
}

/// Whether an expression is known to be an event loop: `asyncio.get_running_loop()` (inline
/// or through a name bound only to it), or a name or attribute called `loop`/`_loop`/
/// `event_loop`. A `TaskGroup` bound by `async with` is not.
fn is_event_loop(checker: &Checker<'_>, receiver: &Expr) -> bool {
    let is_loop_getter = |q: &str| {
        matches!(
            q,
            "asyncio.get_event_loop"
                | "asyncio.get_running_loop"
                | "asyncio.new_event_loop"
                | "asyncio.events.get_event_loop"
                | "asyncio.events.get_running_loop"
                | "asyncio.events.new_event_loop"
        )
    };
    match receiver {
        Expr::Call(c) => checker.callee(c).is_some_and(|q| is_loop_getter(&q)),
        Expr::Name(n) => match checker.bindings(n.id.as_str()) {
            Some(vals) if !vals.is_empty() && vals.iter().all(|v| matches!(v, Value::Call(q) if is_loop_getter(q))) => {
                true
            }
            Some(vals) if vals.iter().any(|v| matches!(v, Value::WithItem(_) | Value::Call(_))) => false,
            _ => is_loop_name(n.id.as_str()),
        },
        Expr::Attribute(ast::ExprAttribute { attr, .. }) => is_loop_name(attr.id.as_str()),
        _ => false,
    }
}

fn is_loop_name(name: &str) -> bool {
    matches!(name, "loop" | "_loop" | "event_loop" | "_event_loop")
}

#[cfg(test)]
mod tests {
    #[test]
    fn fixture() {
        crate::rules::check_fixture(crate::Rule::DanglingTask);
    }
}
