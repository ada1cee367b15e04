//! TA104 `sorted-for-min-max`: `sorted(x)[0]` or `sorted(x)[-1]` instead of `min`/`max`.

use crate::checker::{Checker, Node};

/// The check (not written yet).
pub fn check(_checker: &mut Checker<'_>, _node: Node<'_>) {}
