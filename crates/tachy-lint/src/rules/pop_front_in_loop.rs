//! TA110 `pop-front-in-loop`: `list.pop(0)` or `list.insert(0, x)` inside a loop.

use crate::checker::{Checker, Node};

/// The check (not written yet).
pub fn check(_checker: &mut Checker<'_>, _node: Node<'_>) {}
