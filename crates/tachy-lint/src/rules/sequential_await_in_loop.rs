//! TA203 `sequential-await-in-loop`: `await` in a loop whose iterations are independent.

use crate::checker::{Checker, Node};

/// The check (not written yet).
pub fn check(_checker: &mut Checker<'_>, _node: Node<'_>) {}
