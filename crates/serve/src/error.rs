//! The error answer every route gives: a status, a machine-readable kind, a message and
//! where it happened, as JSON.

use axum::extract::rejection::QueryRejection;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

/// Every error answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Human-readable message.
    pub error: String,
    /// Machine-readable kind: `bad_request`, `payload_too_large`, `validation`,
    /// `unauthorized`, `not_found`, `overloaded`, `timeout`, `unavailable`.
    pub error_type: String,
    /// Where: record, position, limit.
    pub detail: serde_json::Value,
    /// Request id.
    pub request_id: String,
}

/// An error with its status.
#[derive(Debug)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// `error_type`.
    pub kind: &'static str,
    /// `error`.
    pub message: String,
    /// `detail`.
    pub detail: serde_json::Value,
}

impl ApiError {
    /// A new error.
    pub fn new(
        status: StatusCode,
        kind: &'static str,
        message: impl Into<String>,
        detail: serde_json::Value,
    ) -> ApiError {
        ApiError {
            status,
            kind,
            message: message.into(),
            detail,
        }
    }
    pub(crate) fn bad(message: impl Into<String>, detail: serde_json::Value) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message, detail)
    }
    pub(crate) fn invalid(message: impl Into<String>, detail: serde_json::Value) -> ApiError {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            message,
            detail,
        )
    }
    /// The JSON response, stamped with a request id.
    pub fn into_response_with(self, request_id: &str) -> Response {
        let body = ErrorBody {
            error: self.message,
            error_type: self.kind.into(),
            detail: self.detail,
            request_id: request_id.into(),
        };
        let mut r = (self.status, Json(body)).into_response();
        if self.status == StatusCode::SERVICE_UNAVAILABLE
            || self.status == StatusCode::TOO_MANY_REQUESTS
        {
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        r
    }
}

/// A query string that does not parse (e.g. `?table=abc`): 400 with the reason.
pub(crate) fn bad_query(e: QueryRejection) -> ApiError {
    ApiError::bad(
        format!("malformed query string: {}", e.body_text()),
        serde_json::json!({"source": "query"}),
    )
}
