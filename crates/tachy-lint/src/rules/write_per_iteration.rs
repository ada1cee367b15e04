//! TA302 `write-per-iteration`: One `write()` per loop iteration on the same file.

use crate::checker::{Checker, Node};

/// The check (not written yet).
pub fn check(_checker: &mut Checker<'_>, _node: Node<'_>) {}
