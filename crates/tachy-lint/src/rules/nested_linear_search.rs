//! TA111 `nested-linear-search`: Nested loops comparing elements: a linear search per outer element.

use crate::checker::{Checker, Node};

/// The check (not written yet).
pub fn check(_checker: &mut Checker<'_>, _node: Node<'_>) {}
