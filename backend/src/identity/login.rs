//! `/api/auth/*`: login, refresh, logout.
