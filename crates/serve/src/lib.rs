//! The cds-predictor HTTP service.
//!
//! - [`api`]: request/response types and handlers (`/v1/predict`, `/v1/info`,
//!   `/v1/config`, health probes, `/metrics`); the OpenAPI document is generated from
//!   them ([`ApiDoc`]).
//! - [`batcher`]: the bounded queue and dynamic batcher in front of a [`Backend`].
//! - [`metrics`]: Prometheus text metrics with the `cdspred_` prefix.
//! - [`logstore`]: the SQLite input/output log (WAL, one transaction per request,
//!   retention by rows and days).
//! - [`page`]: the web page and API page, embedded in the binary (no CDN).
//!
//! [`build`] wires them into an axum router; [`serve`] runs it until Ctrl-C/SIGTERM and
//! then drains in-flight requests. Every request gets an id (`x-request-id`), one
//! structured log line (route, status, reads, latency) and a metrics sample; bad input
//! always gets a JSON error, never a 500.

pub mod api;
pub mod batcher;
pub mod body;
pub mod error;
pub mod logstore;
pub mod metrics;
pub mod page;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use cdspred_core::{DnaSeq, TableId};
use cdspred_drift::DriftReport;
use cdspred_model::predict::{Frameshift, ShiftKind};
use cdspred_model::result::ReadStrand;
use cdspred_model::{Call, ReadResult};
use utoipa::OpenApi;

use batcher::Batcher;
pub use batcher::{Backend, BatchConfig};
use logstore::{LogConfig, LogStore};
use metrics::Metrics;

/// Everything the server is configured with.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Listen address (default 127.0.0.1:8000; port 0 picks a free one).
    pub addr: SocketAddr,
    /// Data directory (input log).
    pub data_dir: PathBuf,
    /// Largest request body in bytes.
    pub max_body_bytes: usize,
    /// Most reads per request.
    pub max_reads: usize,
    /// Longest read in nt.
    pub max_read_len: usize,
    /// Per-request time limit.
    pub request_timeout: Duration,
    /// Batching.
    pub batch: BatchConfig,
    /// Input log.
    pub log: LogConfig,
    /// Bearer token for `/v1/*` routes (none: open).
    pub auth_token: Option<String>,
    /// Recompute drift over the log this often (zero: only on request).
    pub drift_interval: Duration,
    /// Logged reads the periodic drift check looks at.
    pub drift_window_reads: usize,
}

/// Computes a drift report for reads with their genetic codes.
pub type DriftFn = Arc<dyn Fn(Vec<(Vec<u8>, TableId)>) -> DriftReport + Send + Sync>;

/// Shared state of the handlers.
pub struct AppState {
    /// The config.
    pub config: ServeConfig,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// The batcher.
    pub batcher: Batcher,
    /// The input log.
    pub log: LogStore,
    /// Model version label.
    pub model_version: String,
    /// Model card JSON.
    pub model_card: serde_json::Value,
    /// Model config JSON.
    pub model_config: serde_json::Value,
    /// Shortest scored read.
    pub min_read_len: usize,
    /// Warm-up done.
    pub warmed_up: AtomicBool,
    /// Drift computation, when available.
    pub drift: Option<DriftFn>,
    next_id: AtomicU64,
    id_prefix: String,
}

/// The model as the service sees it.
pub struct ModelInfo {
    /// Version label.
    pub version: String,
    /// Card JSON.
    pub card: serde_json::Value,
    /// Config JSON.
    pub config: serde_json::Value,
    /// Shortest scored read.
    pub min_read_len: usize,
}

/// The generated OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    info(title = "cds-predictor", description = "Which short DNA reads are protein-coding, on which strand and in which frame."),
    paths(api::predict, api::live, api::ready, api::info, api::config, api::drift, api::metrics),
    components(schemas(api::PredictRequest, api::SequenceIn, api::PredictResponse, ReadResult, Frameshift, ShiftKind, Call, ReadStrand, api::ErrorBody, api::Health, api::Info, api::Limits, api::CodeInfo, logstore::LogState)),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

struct BearerAuth;
impl utoipa::Modify for BearerAuth {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        if let Some(c) = doc.components.as_mut() {
            c.add_security_scheme(
                "bearer",
                SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
            );
        }
    }
}

/// Builds the state and router. Must run inside a Tokio runtime (starts the batcher).
pub fn build(
    config: ServeConfig,
    backend: Arc<dyn Backend>,
    model: ModelInfo,
    drift: Option<DriftFn>,
) -> (Router, Arc<AppState>) {
    let metrics = Arc::new(Metrics::default());
    let batcher = Batcher::start(backend, config.batch.clone(), metrics.clone());
    let log = LogStore::start(config.log.clone(), metrics.clone());
    let started = logstore::now();
    let state = Arc::new(AppState {
        config,
        metrics,
        batcher,
        log,
        model_version: model.version,
        model_card: model.card,
        model_config: model.config,
        min_read_len: model.min_read_len,
        warmed_up: AtomicBool::new(false),
        drift,
        next_id: AtomicU64::new(1),
        id_prefix: format!("{:x}", (started * 1000.0) as u64),
    });
    let v1 = Router::new()
        .route("/v1/predict", post(api::predict))
        .route("/v1/info", get(api::info))
        .route("/v1/config", get(api::config))
        .route("/v1/drift", get(api::drift))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            require_auth,
        ));
    let router = Router::new()
        .route("/", get(page::index))
        .route("/docs", get(page::docs))
        .route("/openapi.json", get(openapi))
        .route("/health/live", get(api::live))
        .route("/health/ready", get(api::ready))
        .route("/metrics", get(api::metrics))
        .merge(v1)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(state.clone(), observe))
        .with_state(state.clone());
    (router, state)
}

/// The OpenAPI document as pretty JSON (served at `/openapi.json`, written into the docs).
pub fn openapi_json() -> String {
    ApiDoc::openapi()
        .to_pretty_json()
        .unwrap_or_else(|_| "{}".into())
}

async fn openapi() -> Response {
    let json = openapi_json();
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        json,
    )
        .into_response()
}

/// A JSON error for a request no handler took.
fn routing_error(
    req: &Request,
    status: StatusCode,
    kind: &'static str,
    message: String,
) -> Response {
    api::ApiError::new(status, kind, message, serde_json::Value::Null)
        .into_response_with(&api::request_id(req))
}

async fn not_found(req: Request) -> Response {
    let message = format!("no route for {} {}", req.method(), req.uri().path());
    routing_error(&req, StatusCode::NOT_FOUND, "not_found", message)
}

async fn method_not_allowed(req: Request) -> Response {
    let message = format!("{} is not allowed on {}", req.method(), req.uri().path());
    routing_error(
        &req,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        message,
    )
}

async fn require_auth(State(st): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    if api::authorized(&st, req.headers()) {
        return next.run(req).await;
    }
    let rid = api::request_id(&req);
    let mut r = api::ApiError::new(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "missing or wrong bearer token",
        serde_json::Value::Null,
    )
    .into_response_with(&rid);
    r.headers_mut()
        .insert("www-authenticate", HeaderValue::from_static("Bearer"));
    r
}

/// Request id, access log line and metrics for every request.
async fn observe(State(st): State<Arc<AppState>>, mut req: Request, next: Next) -> Response {
    let t0 = Instant::now();
    let rid = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .map(str::to_string)
        .unwrap_or_else(|| {
            format!(
                "{}-{}",
                st.id_prefix,
                st.next_id.fetch_add(1, Ordering::Relaxed)
            )
        });
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().clone();
    req.extensions_mut().insert(api::RequestId(rid.clone()));
    let mut resp = next.run(req).await;
    let status = resp.status().as_u16();
    let reads = resp
        .extensions()
        .get::<api::ReadCount>()
        .map(|c| c.0)
        .unwrap_or(0);
    let secs = t0.elapsed().as_secs_f64();
    st.metrics.request(&route, status, secs);
    tracing::info!(request_id = %rid, method = %method, route = %route, status, reads, latency_ms = secs * 1000.0, "request");
    if let Ok(v) = HeaderValue::from_str(&rid) {
        resp.headers_mut().insert("x-request-id", v);
    }
    resp
}

/// Runs one warm-up batch through the whole prediction path, then marks the state ready.
pub async fn warm_up(state: &AppState) {
    let read = DnaSeq::from_ascii(
        b"ATGGCTGCTAAAGAAGCTCTGGCTAAAGAAATTGCTGCTCTGGAAAAAGCTGGCGCTAAAGTTATTGAAGCTAAA",
    )
    .expect("valid DNA");
    let _ = state
        .batcher
        .submit(vec![read], cdspred_core::TableId::BACTERIAL, 0.5)
        .await;
    state.warmed_up.store(true, Ordering::Release);
}

/// Serves until Ctrl-C or SIGTERM, then stops accepting and drains in-flight requests.
/// Connections are accepted at once; the warm-up batch runs beside them, and
/// `/health/ready` answers 503 until it is done.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    state: Arc<AppState>,
) -> std::io::Result<()> {
    let warming = state.clone();
    tokio::spawn(async move { warm_up(&warming).await });
    tokio::spawn(periodic_drift(state.clone()));
    tracing::info!(addr = %listener.local_addr()?, "serving");
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown_signal())
        .await
}

/// Every `drift_interval` (unless zero, or drift or the log is off) recomputes drift
/// over the last `drift_window_reads` logged reads for the gauges; a window with no
/// reads yet is skipped quietly, other failures are logged.
async fn periodic_drift(state: Arc<AppState>) {
    let every = state.config.drift_interval;
    if every.is_zero() || state.drift.is_none() || !state.config.log.enabled {
        return;
    }
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tick.tick().await;
        match api::drift_over_log(&state, state.config.drift_window_reads, 0.0).await {
            Ok(report) => state.metrics.set_drift(&report),
            Err(e) if e.status == StatusCode::CONFLICT => {}
            Err(e) => tracing::warn!(error = %e.message, "periodic drift check failed"),
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: draining in-flight requests");
}
