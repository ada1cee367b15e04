//! TA112 `try-except-key-error`: `try: d[k] except KeyError` where `d.get(k)` does.

use crate::checker::{Checker, Node};

/// The check (not written yet).
pub fn check(_checker: &mut Checker<'_>, _node: Node<'_>) {}
