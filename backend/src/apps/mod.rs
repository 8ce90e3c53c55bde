//! Applications (DESIGN §7a, seed 004): versioned bundles from an uploaded archive or a Git
//! branch that add entity types, flow templates and connector kinds to the platform, the
//! packages they carry and require, their import errors, and their transfer between platforms.

pub mod bundle;
pub mod catalog;
pub mod git;
pub mod install;
pub mod manifest;
pub mod routes;
pub mod transfer;
