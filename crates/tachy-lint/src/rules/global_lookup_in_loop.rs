//! TA106 `global-lookup-in-loop`: Module attribute or global looked up on every iteration of a hot loop.

use crate::checker::{Checker, Node};

/// The check (not written yet).
pub fn check(_checker: &mut Checker<'_>, _node: Node<'_>) {}
