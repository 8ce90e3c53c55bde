//! Operations: the background work of a replica (the run worker pool and scheduler), demo
//! data, and the health answer.

pub mod health;
pub mod routes;
pub mod seed;
pub mod worker;
