//! TA107 `dataclass-without-slots`: Dataclass created many times without `slots=True`.

use crate::checker::{Checker, Node};

/// The check (not written yet).
pub fn check(_checker: &mut Checker<'_>, _node: Node<'_>) {}
