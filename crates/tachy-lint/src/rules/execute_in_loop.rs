//! TA303 `execute-in-loop`: One database `execute()` per loop iteration.

use crate::checker::{Checker, Node};

/// The check (not written yet).
pub fn check(_checker: &mut Checker<'_>, _node: Node<'_>) {}
