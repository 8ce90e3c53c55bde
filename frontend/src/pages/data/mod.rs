//! The data explorer and data operations (merges, hash warnings, migrations).

pub mod data_ops;
pub mod explorer;
