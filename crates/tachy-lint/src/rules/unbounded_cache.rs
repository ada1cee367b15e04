//! TA105 `unbounded-cache`: Unbounded `lru_cache`/`cache`, or `lru_cache` on a method.

use crate::checker::{Checker, Node};

/// The check (not written yet).
pub fn check(_checker: &mut Checker<'_>, _node: Node<'_>) {}
