//! API types and handlers. The OpenAPI document is generated from these definitions.

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use cdspred_core::dna::codes_to_ascii;
use cdspred_core::GeneticCode;
use cdspred_drift::DriftReport;
use cdspred_model::ReadResult;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::batcher::SubmitError;
use crate::body::{read_request, ReadRequest};
pub use crate::body::{PredictQuery, PredictRequest, SequenceIn};
use crate::error::bad_query;
pub use crate::error::{ApiError, ErrorBody};
use crate::logstore::{now, LogEntry, LogState, LoggedRead};
use crate::AppState;

/// Most logged reads one drift report may look at.
pub const MAX_DRIFT_WINDOW: usize = 10_000_000;

/// The answer to a prediction request.
#[derive(Debug, Serialize, ToSchema)]
pub struct PredictResponse {
    /// Request id (also in the `x-request-id` header).
    pub request_id: String,
    /// Model version label.
    pub model_version: String,
    /// Genetic code used.
    pub table: u32,
    /// Threshold used.
    pub threshold: f32,
    /// Per-read results, in input order.
    pub results: Vec<ReadResult>,
}

/// The request id put on the request by the middleware.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// The request id of a request (empty before the middleware ran).
pub fn request_id(req: &Request) -> String {
    req.extensions()
        .get::<RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default()
}

/// Number of reads a request carried (for the access log).
#[derive(Debug, Clone, Copy)]
pub struct ReadCount(pub usize);

/// Predict coding reads.
///
/// Body: JSON (`application/json`), FASTA/FASTQ text or gzip (any other content type;
/// `table` and `threshold` as query parameters), or a multipart upload with a `file`
/// part (and optional `table`, `threshold` parts).
#[utoipa::path(
    post,
    path = "/v1/predict",
    params(PredictQuery),
    request_body(content = PredictRequest, description = "JSON reads; FASTA/FASTQ (plain or gzip) and multipart uploads are accepted too"),
    responses(
        (status = 200, description = "Predictions in input order", body = PredictResponse),
        (status = 400, description = "Malformed JSON, FASTA/FASTQ or multipart body, or query string", body = ErrorBody),
        (status = 401, description = "Missing or wrong bearer token", body = ErrorBody),
        (status = 413, description = "Body larger than the limit", body = ErrorBody),
        (status = 422, description = "Too many reads, a read too long, unknown genetic code or bad threshold", body = ErrorBody),
        (status = 429, description = "Queue full; retry after the Retry-After seconds", body = ErrorBody),
        (status = 503, description = "Request timed out or server shutting down; retry after the Retry-After seconds", body = ErrorBody),
    )
)]
pub async fn predict(
    State(st): State<Arc<AppState>>,
    q: Result<Query<PredictQuery>, QueryRejection>,
    req: Request,
) -> Response {
    let rid = request_id(&req);
    let q = match q {
        Ok(Query(q)) => q,
        Err(e) => return bad_query(e).into_response_with(&rid),
    };
    match predict_inner(st, q, req, &rid).await {
        Ok((resp, n)) => {
            let mut r = Json(resp).into_response();
            r.extensions_mut().insert(ReadCount(n));
            r
        }
        Err(e) => e.into_response_with(&rid),
    }
}

async fn predict_inner(
    st: Arc<AppState>,
    q: PredictQuery,
    req: Request,
    rid: &str,
) -> Result<(PredictResponse, usize), ApiError> {
    let ReadRequest {
        ids,
        reads,
        table,
        threshold,
    } = read_request(&st, q, req).await?;
    let code = table.code();
    let n = reads.len();
    let submitted = st.batcher.submit(reads.clone(), table, threshold);
    let preds = match tokio::time::timeout(st.config.request_timeout, submitted).await {
        Ok(Ok(p)) => p,
        Ok(Err(SubmitError::QueueFull)) => {
            st.metrics.rejected();
            return Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "overloaded",
                "the prediction queue is full; retry shortly",
                serde_json::json!({"queue_capacity_reads": st.config.batch.queue_capacity_reads}),
            ));
        }
        Ok(Err(SubmitError::Closed)) => {
            return Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the server is shutting down",
                serde_json::Value::Null,
            ))
        }
        Err(_) => {
            return Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "timeout",
                "prediction did not finish within the request timeout",
                serde_json::json!({"timeout_ms": st.config.request_timeout.as_millis() as u64}),
            ))
        }
    };
    // Feature IDs are unique within a request, as in `cdspred predict`'s outputs.
    let mut names = cdspred_model::result::SeqNames::default();
    let results: Vec<ReadResult> = ids
        .into_iter()
        .zip(reads.iter().zip(&preds))
        .map(|(id, (r, p))| {
            let seqid = names.unique(&id).into_owned();
            ReadResult::new(id, &seqid, r.codes(), p, &code)
        })
        .collect();
    st.log.log(LogEntry {
        request_id: rid.to_string(),
        time: now(),
        model_version: st.model_version.clone(),
        table: table.get(),
        reads: results
            .iter()
            .zip(&reads)
            .map(|(r, s)| LoggedRead {
                read_id: r.id.clone(),
                sequence: codes_to_ascii(s.codes()),
                coding_prob: r.coding_prob,
                sense_prob: r.sense_prob,
                strand: r.strand,
                frame: r.frame,
                call: r.call,
            })
            .collect(),
    });
    Ok((
        PredictResponse {
            request_id: rid.to_string(),
            model_version: st.model_version.clone(),
            table: table.get(),
            threshold,
            results,
        },
        n,
    ))
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/health/live", responses((status = 200, description = "Alive", body = Health)))]
pub async fn live() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
        model_loaded: None,
        warmed_up: None,
        input_log: None,
    })
}

/// Health answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok` or `not_ready`.
    pub status: String,
    /// The model is loaded.
    pub model_loaded: Option<bool>,
    /// A warm-up batch has run.
    pub warmed_up: Option<bool>,
    /// The input log's state (a failing log does not make the server unready).
    pub input_log: Option<LogState>,
}

/// Readiness: model loaded and warm-up batch done; reports the input log's state.
#[utoipa::path(get, path = "/health/ready", responses((status = 200, description = "Ready", body = Health), (status = 503, description = "Not ready", body = Health)))]
pub async fn ready(State(st): State<Arc<AppState>>) -> Response {
    let warmed = st.warmed_up.load(std::sync::atomic::Ordering::Acquire);
    let h = Health {
        status: if warmed { "ok" } else { "not_ready" }.into(),
        model_loaded: Some(true),
        warmed_up: Some(warmed),
        input_log: Some(st.log.state()),
    };
    let code = if warmed {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, Json(h)).into_response()
}

/// A genetic code the server knows.
#[derive(Debug, Serialize, ToSchema)]
pub struct CodeInfo {
    /// NCBI table number.
    pub id: u32,
    /// NCBI name.
    pub name: String,
}

/// Model and service information.
#[derive(Debug, Serialize, ToSchema)]
pub struct Info {
    /// Service version.
    pub service_version: String,
    /// Model version label.
    pub model_version: String,
    /// The model card (`card.json`).
    #[schema(value_type = Object)]
    pub model_card: serde_json::Value,
    /// The model config (`config.json`).
    #[schema(value_type = Object)]
    pub model_config: serde_json::Value,
    /// Supported genetic codes.
    pub genetic_codes: Vec<CodeInfo>,
}

/// Model card, versions and supported genetic codes.
#[utoipa::path(get, path = "/v1/info", responses((status = 200, description = "Info", body = Info)))]
pub async fn info(State(st): State<Arc<AppState>>) -> Json<Info> {
    Json(Info {
        service_version: env!("CARGO_PKG_VERSION").into(),
        model_version: st.model_version.clone(),
        model_card: st.model_card.clone(),
        model_config: st.model_config.clone(),
        genetic_codes: GeneticCode::known_ids()
            .filter_map(|i| GeneticCode::new(i).ok())
            .map(|c| CodeInfo {
                id: c.id(),
                name: c.name().into(),
            })
            .collect(),
    })
}

/// Limits and batching settings.
#[derive(Debug, Serialize, ToSchema)]
pub struct Limits {
    /// Largest request body (bytes).
    pub max_body_bytes: usize,
    /// Most reads per request.
    pub max_reads: usize,
    /// Longest read (nt).
    pub max_read_len: usize,
    /// Request timeout (ms).
    pub request_timeout_ms: u64,
    /// Dynamic batching on.
    pub batching: bool,
    /// Reads per batch.
    pub max_batch_reads: usize,
    /// Longest wait for a batch to fill (ms).
    pub max_wait_ms: u64,
    /// Queue capacity (reads).
    pub queue_capacity_reads: usize,
    /// Shortest read the model scores.
    pub min_read_len: usize,
    /// Input log on.
    pub input_log: bool,
    /// Bearer token required for /v1 routes.
    pub auth_required: bool,
}

/// The service's limits.
#[utoipa::path(get, path = "/v1/config", responses((status = 200, description = "Limits", body = Limits)))]
pub async fn config(State(st): State<Arc<AppState>>) -> Json<Limits> {
    let c = &st.config;
    Json(Limits {
        max_body_bytes: c.max_body_bytes,
        max_reads: c.max_reads,
        max_read_len: c.max_read_len,
        request_timeout_ms: c.request_timeout.as_millis() as u64,
        batching: c.batch.enabled,
        max_batch_reads: c.batch.max_batch_reads,
        max_wait_ms: c.batch.max_wait.as_millis() as u64,
        queue_capacity_reads: c.batch.queue_capacity_reads,
        min_read_len: st.min_read_len,
        input_log: c.log.enabled,
        auth_required: c.auth_token.is_some(),
    })
}

/// Prometheus metrics (text format).
#[utoipa::path(get, path = "/metrics", responses((status = 200, description = "Prometheus text exposition", content_type = "text/plain")))]
pub async fn metrics(State(st): State<Arc<AppState>>) -> Response {
    let text = st.metrics.render(st.batcher.depth(), &st.model_version);
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

/// Checks the bearer token, when one is configured.
pub fn authorized(st: &AppState, headers: &HeaderMap) -> bool {
    match &st.config.auth_token {
        None => true,
        Some(t) => headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|v| constant_time_eq(v.as_bytes(), t.as_bytes())),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Query of `/v1/drift`.
#[derive(Debug, Deserialize, ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DriftQuery {
    /// Use at most the last N logged reads (default 10000).
    #[param(minimum = 1, maximum = 10_000_000)]
    pub last: Option<usize>,
    /// Only reads logged at or after this unix time.
    pub since: Option<f64>,
}

/// Computes drift over logged reads (shared by the endpoint and the periodic check).
pub async fn drift_over_log(
    st: &Arc<AppState>,
    last: usize,
    since: f64,
) -> Result<DriftReport, ApiError> {
    let Some(f) = st.drift.clone() else {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "drift reports are not available for this model",
            serde_json::Value::Null,
        ));
    };
    if !st.config.log.enabled {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the input log is switched off: no reads to compare",
            serde_json::Value::Null,
        ));
    }
    let path = st.config.log.path.clone();
    tokio::task::spawn_blocking(move || {
        let rows = crate::logstore::export(&path, since, f64::MAX, usize::MAX).map_err(|e| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                format!("cannot read the input log: {e}"),
                serde_json::Value::Null,
            )
        })?;
        let reads = crate::logstore::drift_reads(rows, last).map_err(|e| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                format!("the input log holds {e}"),
                serde_json::Value::Null,
            )
        })?;
        if reads.is_empty() {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "no_data",
                "no logged reads in the window yet",
                serde_json::json!({"last": last, "since": since}),
            ));
        }
        Ok(f(reads))
    })
    .await
    .map_err(|_| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "drift computation failed",
            serde_json::Value::Null,
        )
    })?
}

/// Drift of the logged reads against the model's reference profile (same JSON as
/// `cdspred drift --format json`).
#[utoipa::path(
    get,
    path = "/v1/drift",
    params(DriftQuery),
    responses(
        (status = 200, description = "Drift report", content_type = "application/json"),
        (status = 400, description = "Malformed query string", body = ErrorBody),
        (status = 409, description = "No logged reads in the window yet", body = ErrorBody),
        (status = 422, description = "last out of range", body = ErrorBody),
        (status = 503, description = "Log off or unreadable", body = ErrorBody),
    )
)]
pub async fn drift(
    State(st): State<Arc<AppState>>,
    q: Result<Query<DriftQuery>, QueryRejection>,
    req: Request,
) -> Response {
    let rid = request_id(&req);
    let q = match q {
        Ok(Query(q)) => q,
        Err(e) => return bad_query(e).into_response_with(&rid),
    };
    let last = q.last.unwrap_or(10_000);
    if !(1..=MAX_DRIFT_WINDOW).contains(&last) {
        return ApiError::invalid(
            format!("last must be between 1 and {MAX_DRIFT_WINDOW}"),
            serde_json::json!({"field": "last", "value": last}),
        )
        .into_response_with(&rid);
    }
    match drift_over_log(&st, last, q.since.unwrap_or(0.0)).await {
        Ok(v) => {
            st.metrics.set_drift(&v);
            Json(v).into_response()
        }
        Err(e) => e.into_response_with(&rid),
    }
}
