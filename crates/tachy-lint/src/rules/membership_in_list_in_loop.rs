//! TA102 `membership-in-list-in-loop`: Membership test against a list or tuple inside a loop.

use crate::checker::{Checker, Node};

/// The check (not written yet).
pub fn check(_checker: &mut Checker<'_>, _node: Node<'_>) {}
