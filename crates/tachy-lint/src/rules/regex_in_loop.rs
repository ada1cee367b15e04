//! TA113 `regex-in-loop`: `re` function with a constant pattern inside a loop.

use crate::checker::{Checker, Node};

/// The check (not written yet).
pub fn check(_checker: &mut Checker<'_>, _node: Node<'_>) {}
