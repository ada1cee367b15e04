//! Renderers of `tachy check` reports (being written).
