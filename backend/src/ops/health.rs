//! `GET /api/health`: liveness, version, database kind and migration state.
