//! The web page and the human-readable API page, embedded in the binary.

use axum::http::header;
use axum::response::{IntoResponse, Response};

const INDEX: &str = include_str!("../assets/index.html");
const DOCS: &str = include_str!("../assets/docs.html");

/// `GET /`: the prediction page.
pub async fn index() -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], INDEX).into_response()
}

/// `GET /docs`: the API reference, rendered in the browser from `/openapi.json`.
pub async fn docs() -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], DOCS).into_response()
}
