//! TA401 `pandas-row-iteration`: pandas `iterrows()`/`itertuples()` loop or `apply(axis=1)`.

use crate::checker::{Checker, Node};

/// The check (not written yet).
pub fn check(_checker: &mut Checker<'_>, _node: Node<'_>) {}
