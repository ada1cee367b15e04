//! TA205 `threads-for-cpu-work`: Thread whose target does CPU work and no I/O.

use crate::checker::{Checker, Node};

/// The check (not written yet).
pub fn check(_checker: &mut Checker<'_>, _node: Node<'_>) {}

/// Settles a deferred call.
pub fn settle(_d: &crate::project::DeferredCall, _index: &crate::project::ProjectIndex) -> Option<crate::checker::Diagnostic> {
    None
}
