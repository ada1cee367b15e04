//! TA109 `redundant-copy`: `list(d.keys())`, `x in d.keys()` or a `list(...)` copy iterated once.

use crate::checker::{Checker, Node};

/// The check (not written yet).
pub fn check(_checker: &mut Checker<'_>, _node: Node<'_>) {}
