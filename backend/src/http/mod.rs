//! The HTTP plumbing every area's routes use: RFC 9457 problems, extractors that answer in
//! problems, the request id and metadata, keyset pagination, the principals resolved moments
//! ago, and serving the SPA's files.

pub mod error;
pub mod extract;
pub mod lane;
pub mod pagination;
pub mod principals;
pub mod request_id;
pub mod request_meta;
pub mod spa;

/// A `201 Created` answer: the new resource's address in `Location`, its representation as
/// the body. The route declares the header in its `responses` (see `api::contract`).
pub struct Created<T> {
    pub location: String,
    pub body: T,
}

impl<T> Created<T> {
    pub fn at(location: impl Into<String>, body: T) -> Self {
        Self { location: location.into(), body }
    }
}

impl<T: serde::Serialize> axum::response::IntoResponse for Created<T> {
    fn into_response(self) -> axum::response::Response {
        (axum::http::StatusCode::CREATED, [(axum::http::header::LOCATION, self.location)], axum::Json(self.body))
            .into_response()
    }
}
