//! TA301 `readlines-iteration`: `readlines()` or a whole-file read only to iterate lines.

use crate::checker::{Checker, Node};

/// The check (not written yet).
pub fn check(_checker: &mut Checker<'_>, _node: Node<'_>) {}
