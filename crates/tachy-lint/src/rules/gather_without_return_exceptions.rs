//! TA202 `gather-without-return-exceptions`: `asyncio.gather` without `return_exceptions=True`.

use crate::checker::{Checker, Node};

/// The check (not written yet).
pub fn check(_checker: &mut Checker<'_>, _node: Node<'_>) {}
