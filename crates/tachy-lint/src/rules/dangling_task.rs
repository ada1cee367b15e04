//! TA204 `dangling-task`: `asyncio.create_task` result not kept.

use crate::checker::{Checker, Node};

/// The check (not written yet).
pub fn check(_checker: &mut Checker<'_>, _node: Node<'_>) {}
