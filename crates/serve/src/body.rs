//! Reading a prediction request: the JSON, FASTA/FASTQ, multipart and gzip bodies, the
//! query string, and the validation of settings and reads. The request types here are
//! part of the OpenAPI document.

use std::io::Read;

use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::{header, StatusCode};
use cdspred_core::fastx::FastxReader;
use cdspred_core::{DnaSeq, GeneticCode, TableId};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::AppState;

/// One input read.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SequenceIn {
    /// Read identifier.
    pub id: String,
    /// Nucleotides (A, C, G, T/U, IUPAC codes read as N; any case).
    #[schema(min_length = 1, pattern = "^[ACGTUNRYKMSWBDHVacgtunrykmswbdhv]+$")]
    pub sequence: String,
}

/// A JSON prediction request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PredictRequest {
    /// The reads.
    #[schema(min_items = 1)]
    pub sequences: Vec<SequenceIn>,
    /// NCBI genetic code (default 11).
    #[serde(default)]
    #[schema(schema_with = nullable_genetic_code_schema)]
    pub table: Option<u32>,
    /// Coding call threshold on coding_prob (default 0.5).
    #[serde(default)]
    #[schema(minimum = 0.0, maximum = 1.0)]
    pub threshold: Option<f32>,
}

/// The genetic codes the model knows, as an OpenAPI enum.
fn genetic_code_schema() -> utoipa::openapi::schema::Object {
    use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
    ObjectBuilder::new()
        .schema_type(SchemaType::new(Type::Integer))
        .description(Some("NCBI genetic code (default 11)"))
        .enum_values(Some(GeneticCode::known_ids()))
        .build()
}

/// The same, or null (the JSON body's `table` may be null: the default).
fn nullable_genetic_code_schema() -> utoipa::openapi::schema::Object {
    use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
    let values: Vec<serde_json::Value> = GeneticCode::known_ids()
        .map(serde_json::Value::from)
        .chain([serde_json::Value::Null])
        .collect();
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Integer, Type::Null]))
        .description(Some("NCBI genetic code (default 11)"))
        .enum_values(Some(values))
        .build()
}

/// Query parameters for FASTA/FASTQ bodies.
#[derive(Debug, Deserialize, ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PredictQuery {
    /// NCBI genetic code (default 11).
    #[param(schema_with = genetic_code_schema)]
    pub table: Option<u32>,
    /// Coding call threshold (default 0.5).
    #[param(minimum = 0.0, maximum = 1.0)]
    pub threshold: Option<f32>,
}

/// A prediction request read and checked: its reads, and its settings with the query's
/// taking precedence.
pub(crate) struct ReadRequest {
    pub(crate) ids: Vec<String>,
    pub(crate) reads: Vec<DnaSeq>,
    pub(crate) table: TableId,
    pub(crate) threshold: f32,
}

/// Reads the body (multipart, JSON, or FASTA/FASTQ, any of them gzip), bounded by the
/// configured body size, and validates settings and reads: every 4xx a prediction
/// A number in a multipart form field (400 naming the field otherwise).
fn form_number<T: std::str::FromStr>(data: &[u8], field: &str) -> Result<T, ApiError> {
    String::from_utf8_lossy(data).trim().parse().map_err(|_| {
        ApiError::bad(
            format!("{field} must be a number"),
            serde_json::json!({ "field": field }),
        )
    })
}

/// request can get for its content comes from here.
pub(crate) async fn read_request(
    st: &AppState,
    q: PredictQuery,
    req: Request,
) -> Result<ReadRequest, ApiError> {
    let ctype = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let limit = st.config.max_body_bytes;
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("request body exceeds {limit} bytes"),
            serde_json::json!({"limit_bytes": limit}),
        )
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let mut parsed = if ctype.starts_with("multipart/form-data") {
        let (parts, body) = req.into_parts();
        let bytes = axum::body::to_bytes(body, limit)
            .await
            .map_err(|_| too_large())?;
        parse_multipart(
            Request::from_parts(parts, axum::body::Body::from(bytes)),
            st,
        )
        .await?
    } else {
        let bytes: Bytes = axum::body::to_bytes(req.into_body(), limit)
            .await
            .map_err(|_| too_large())?;
        if ctype.starts_with("application/json") {
            parse_json(&bytes, st)?
        } else {
            let (ids, reads) = parse_fastx(&bytes, "request body", st)?;
            Parsed {
                ids,
                reads,
                table: 11,
                threshold: 0.5,
            }
        }
    };
    // The body's own settings and the query's are each validated, also when the query
    // overrides the body.
    validate_settings(parsed.table, parsed.threshold, "")?;
    let table = validate_settings(
        q.table.unwrap_or(parsed.table),
        q.threshold.unwrap_or(parsed.threshold),
        "query ",
    )?;
    if let Some(t) = q.threshold {
        parsed.threshold = t;
    }
    if parsed.reads.is_empty() {
        return Err(ApiError::invalid(
            "no sequences in the request",
            serde_json::json!({"field": "sequences"}),
        ));
    }
    for (i, r) in parsed.reads.iter().enumerate() {
        if r.is_empty() {
            return Err(ApiError::invalid(
                format!("sequence {} ({}) is empty", i + 1, parsed.ids[i]),
                serde_json::json!({"record": i + 1, "id": parsed.ids[i]}),
            ));
        }
        if r.len() > st.config.max_read_len {
            return Err(ApiError::invalid(
                format!(
                    "sequence {} ({}) is {} nt, longer than the limit of {}",
                    i + 1,
                    parsed.ids[i],
                    r.len(),
                    st.config.max_read_len
                ),
                serde_json::json!({"record": i + 1, "id": parsed.ids[i], "length": r.len(), "max_read_len": st.config.max_read_len}),
            ));
        }
    }
    Ok(ReadRequest {
        ids: parsed.ids,
        reads: parsed.reads,
        table,
        threshold: parsed.threshold,
    })
}

struct Parsed {
    ids: Vec<String>,
    reads: Vec<DnaSeq>,
    table: u32,
    threshold: f32,
}

fn decompress(bytes: &[u8], limit: usize) -> Result<Vec<u8>, ApiError> {
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return Ok(bytes.to_vec());
    }
    let mut out = Vec::new();
    let mut d = flate2::read::MultiGzDecoder::new(bytes).take(limit as u64 + 1);
    d.read_to_end(&mut out).map_err(|e| {
        ApiError::bad(
            format!("invalid gzip data: {e}"),
            serde_json::json!({"source": "body"}),
        )
    })?;
    if out.len() > limit {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("decompressed body exceeds {limit} bytes"),
            serde_json::json!({"limit_bytes": limit}),
        ));
    }
    Ok(out)
}

fn parse_fastx(
    bytes: &[u8],
    name: &str,
    st: &AppState,
) -> Result<(Vec<String>, Vec<DnaSeq>), ApiError> {
    let text = decompress(bytes, st.config.max_body_bytes * 10)?;
    let mut ids = Vec::new();
    let mut reads = Vec::new();
    for rec in FastxReader::new(text.as_slice(), name) {
        let rec = rec.map_err(|e| {
            ApiError::bad(
                e.to_string(),
                serde_json::json!({"file": e.file, "record": e.record, "id": e.id, "line": e.line}),
            )
        })?;
        if reads.len() >= st.config.max_reads {
            return Err(too_many(st.config.max_reads));
        }
        let (id, seq) = rec.into_parts();
        ids.push(id);
        reads.push(seq);
    }
    Ok((ids, reads))
}

/// Checks a genetic code and threshold (`which` prefixes the field names in errors);
/// the request's one parse of its table number.
fn validate_settings(table: u32, threshold: f32, which: &str) -> Result<TableId, ApiError> {
    let id = TableId::new(table).map_err(|e| {
        ApiError::invalid(
            e.to_string(),
            serde_json::json!({"field": format!("{which}table"), "value": table}),
        )
    })?;
    if !(0.0..=1.0).contains(&threshold) {
        return Err(ApiError::invalid(
            "threshold must be between 0 and 1",
            serde_json::json!({"field": format!("{which}threshold"), "value": threshold}),
        ));
    }
    Ok(id)
}

fn too_many(max: usize) -> ApiError {
    ApiError::invalid(
        format!("too many reads: at most {max} per request"),
        serde_json::json!({"max_reads": max}),
    )
}

fn parse_json(body: &[u8], st: &AppState) -> Result<Parsed, ApiError> {
    let req: PredictRequest = serde_json::from_slice(body).map_err(|e| {
        ApiError::bad(
            format!("malformed JSON: {e}"),
            serde_json::json!({"line": e.line(), "column": e.column()}),
        )
    })?;
    if req.sequences.len() > st.config.max_reads {
        return Err(too_many(st.config.max_reads));
    }
    let mut ids = Vec::with_capacity(req.sequences.len());
    let mut reads = Vec::with_capacity(req.sequences.len());
    for (i, s) in req.sequences.into_iter().enumerate() {
        let seq = DnaSeq::from_ascii(s.sequence.as_bytes()).map_err(|e| {
            ApiError::bad(
                format!("sequence {} ({}): {e}", i + 1, s.id),
                serde_json::json!({"record": i + 1, "id": s.id, "position": e.position, "character": e.byte.to_string()}),
            )
        })?;
        ids.push(s.id);
        reads.push(seq);
    }
    Ok(Parsed {
        ids,
        reads,
        table: req.table.unwrap_or(11),
        threshold: req.threshold.unwrap_or(0.5),
    })
}

async fn parse_multipart(req: Request, st: &AppState) -> Result<Parsed, ApiError> {
    let mut mp = Multipart::from_request(req, &()).await.map_err(|e| {
        ApiError::bad(
            format!("malformed multipart body: {e}"),
            serde_json::Value::Null,
        )
    })?;
    let (mut ids, mut reads) = (Vec::new(), Vec::new());
    let (mut table, mut threshold) = (None, None);
    let mut got_file = false;
    while let Some(field) = mp.next_field().await.map_err(|e| {
        ApiError::bad(
            format!("malformed multipart body: {e}"),
            serde_json::Value::Null,
        )
    })? {
        let name = field.name().unwrap_or("").to_string();
        let fname = field.file_name().unwrap_or("upload").to_string();
        let data = field.bytes().await.map_err(|e| {
            ApiError::bad(
                format!("reading part {name:?}: {e}"),
                serde_json::Value::Null,
            )
        })?;
        match name.as_str() {
            "file" => {
                let (i, r) = parse_fastx(&data, &fname, st)?;
                ids.extend(i);
                reads.extend(r);
                got_file = true;
            }
            "table" => table = Some(form_number(&data, "table")?),
            "threshold" => threshold = Some(form_number(&data, "threshold")?),
            other => {
                return Err(ApiError::bad(
                    format!("unknown form field {other:?}"),
                    serde_json::json!({"field": other}),
                ))
            }
        }
    }
    if !got_file {
        return Err(ApiError::bad(
            "multipart body has no 'file' part",
            serde_json::json!({"field": "file"}),
        ));
    }
    if reads.len() > st.config.max_reads {
        return Err(too_many(st.config.max_reads));
    }
    Ok(Parsed {
        ids,
        reads,
        table: table.unwrap_or(11),
        threshold: threshold.unwrap_or(0.5),
    })
}
