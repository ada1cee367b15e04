//! The self-contained HTML report of `tachy report` (being written).
