//! Applications installed on the platform, their import errors and packages.

pub mod apps;
