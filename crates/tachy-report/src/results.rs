//! Reading any tachy result file by its `schema` (being written).
