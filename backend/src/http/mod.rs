//! The HTTP plumbing every area's routes use: RFC 9457 problems, extractors that answer in
//! problems, the request id and metadata, keyset pagination, and serving the SPA's files.

pub mod error;
pub mod extract;
pub mod pagination;
pub mod request_id;
pub mod request_meta;
pub mod spa;
