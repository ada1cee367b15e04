//! TA108 `append-loop`: Loop that only appends to a list: a comprehension is faster.

use crate::checker::{Checker, Node};

/// The check (not written yet).
pub fn check(_checker: &mut Checker<'_>, _node: Node<'_>) {}
