//! TA103 `comprehension-in-reducer`: `sum`/`any`/`all`/`min`/`max` over a list comprehension.

use crate::checker::{Checker, Node};

/// The check (not written yet).
pub fn check(_checker: &mut Checker<'_>, _node: Node<'_>) {}
