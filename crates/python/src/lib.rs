//! `import cdspred`: the predictor of `cdspred predict` for Python, with the model
//! embedded in the extension module.
//!
//! Results are the CLI's (the same `Predictor`, survey, thresholds and feature IDs);
//! the GIL is released while reads are parsed and predicted, and `threads` works as
//! `--threads` does. Bad input raises `ValueError` with the CLI's message.

use std::collections::VecDeque;
use std::sync::Mutex;

use cdspred_core::fastx::{DynRead, FastxReader, Record};
use cdspred_core::{DnaSeq, GeneticCode, TableId};
use cdspred_model::estimate::{survey, ErrorEstimate, ErrorHint};
use cdspred_model::files::ModelFiles;
use cdspred_model::predict::{Call, Prediction};
use cdspred_model::result::{feature_id, ReadFrame, ReadStrand, SeqNames};
use cdspred_model::TableContext;
use numpy::IntoPyArray;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// Reads surveyed and predicted per step, as in `cdspred predict` (the survey sees
/// the same chunks, so `errors="auto"` decides as the CLI does).
const CHUNK: usize = 4096;

/// One read's result: the columns of `cdspred predict`'s TSV, with the frame shifts
/// listed, the feature IDs and the protein.
#[pyclass(frozen, get_all, module = "cdspred")]
struct Read {
    /// First word of the header (or the id given, or `seqN`).
    id: String,
    /// Length in nt.
    length: usize,
    /// P(the read lies in a protein-coding gene, either strand); NaN when too short.
    coding_prob: f64,
    /// P(the read as given is the coding strand); NaN when too short.
    sense_prob: f64,
    /// `+`, `-`, or `.` when not scored.
    strand: String,
    /// Offset (0, 1, 2) of the first full codon on the sense strand; None when not
    /// scored.
    frame: Option<u8>,
    /// `coding`, `noncoding` or `too_short`.
    call: String,
    /// Frame shifts on the reported frame path: (bases of the read before it,
    /// `ins`/`del`).
    frameshifts: Vec<(usize, String)>,
    /// IDs of its coding segments, as in the GFF3 and faa/ffn outputs.
    features: Vec<String>,
    /// The protein along the frame path (coding reads only).
    protein: Option<String>,
}

#[pymethods]
impl Read {
    fn __repr__(&self) -> String {
        format!(
            "Read(id={:?}, length={}, coding_prob={:.4}, strand={:?}, frame={}, call={:?})",
            self.id,
            self.length,
            self.coding_prob,
            self.strand,
            self.frame
                .map(|f| f.to_string())
                .unwrap_or_else(|| "None".into()),
            self.call
        )
    }
}

fn read_of(id: String, seqid: &str, codes: &[u8], p: &Prediction, code: &GeneticCode) -> Read {
    let scored = p.call != Call::TooShort;
    let prob = |v: f32| if scored { v as f64 } else { f64::NAN };
    Read {
        length: p.length,
        coding_prob: prob(p.coding_prob),
        sense_prob: prob(p.sense_prob),
        strand: ReadStrand::from(p.best.map(|b| b.0)).as_str().to_string(),
        frame: ReadFrame::from(p.best.map(|b| b.1)).offset(),
        call: p.call.as_str().to_string(),
        frameshifts: p
            .frameshifts
            .iter()
            .map(|f| (f.pos, f.kind.as_str().to_string()))
            .collect(),
        features: p.segments.iter().map(|s| feature_id(seqid, s)).collect(),
        protein: p.protein(codes, code),
        id,
    }
}

/// A sequence given as `str` or `bytes`.
#[derive(FromPyObject)]
enum SeqIn {
    Text(String),
    Bytes(Vec<u8>),
}

impl SeqIn {
    fn bytes(&self) -> &[u8] {
        match self {
            SeqIn::Text(s) => s.as_bytes(),
            SeqIn::Bytes(b) => b,
        }
    }
}

/// `errors=`: `auto`, `unknown` or a profile name (as `--errors`).
fn error_hint(name: &str) -> PyResult<ErrorHint> {
    match name {
        "auto" => Ok(ErrorHint::Auto),
        "unknown" => Ok(ErrorHint::Fixed(None)),
        "none" => Ok(ErrorHint::ErrorFree),
        _ => cdspred_data::ErrorProfile::named(name)
            .map(|p| ErrorHint::Fixed(Some(p.indels_per_100nt() as f32)))
            .map_err(|e| PyValueError::new_err(format!("errors={name:?}: {e}; or auto, unknown"))),
    }
}

/// Predicts which reads are protein-coding, on which strand and frame.
///
/// `table`: NCBI genetic code (1–33; 11 bacteria/archaea, 4 Mycoplasma); `threads`:
/// worker threads, 0 = all cores (results do not depend on it); `model`: a model
/// directory, default the embedded model; `threshold`: `coding` when coding_prob ≥ it;
/// `errors`: what the model is told about sequencing errors — `auto` surveys the first
/// reads of each call (or file) as `cdspred predict` does, `unknown` tells nothing, a
/// profile name (`none`, `sub1`, `adna`, `illumina`, `indel1`, `homopolymer1`, …) tells
/// that profile.
#[pyclass(frozen, module = "cdspred")]
struct Predictor {
    base: cdspred_model::Predictor,
    table: TableContext,
    code: GeneticCode,
    table_id: TableId,
    threads: usize,
    threshold: f32,
    errors: ErrorHint,
    errors_name: String,
    model_version: String,
    weights_sha256: String,
}

impl Predictor {
    /// The predictor for `reads`: surveyed first when `errors="auto"`.
    fn for_reads(&self, reads: &[&[u8]]) -> cdspred_model::Predictor {
        match self.errors {
            ErrorHint::Auto => {
                let mut est = ErrorEstimate::default();
                for chunk in reads.chunks(CHUNK) {
                    if est.settled() {
                        break;
                    }
                    survey(&self.base, &mut est, chunk, &self.table, self.threads);
                }
                est.tell(self.base.clone())
            }
            told => told.tell(self.base.clone()),
        }
    }

    /// Parses the sequences (errors name the record and position, as the CLI's do).
    fn parse(seqs: &[SeqIn], ids: &[String]) -> Result<Vec<DnaSeq>, String> {
        seqs.iter()
            .enumerate()
            .map(|(i, s)| {
                let where_ = || format!("record {} ({})", i + 1, ids[i]);
                let seq =
                    DnaSeq::from_ascii(s.bytes()).map_err(|e| format!("{}: {e}", where_()))?;
                if seq.is_empty() {
                    return Err(format!("{}: empty record: no sequence", where_()));
                }
                Ok(seq)
            })
            .collect()
    }

    /// Ids given, or `seq1`, `seq2`, … (checked against the number of sequences).
    fn ids(n: usize, ids: Option<Vec<String>>) -> PyResult<Vec<String>> {
        match ids {
            Some(ids) if ids.len() != n => Err(PyValueError::new_err(format!(
                "{} ids for {n} sequences",
                ids.len()
            ))),
            Some(ids) => Ok(ids),
            None => Ok((1..=n).map(|i| format!("seq{i}")).collect()),
        }
    }

    /// Parses and predicts without the GIL.
    fn run(
        &self,
        py: Python<'_>,
        sequences: &[SeqIn],
        ids: &[String],
    ) -> PyResult<(Vec<DnaSeq>, Vec<Prediction>)> {
        py.detach(|| {
            let seqs = Self::parse(sequences, ids)?;
            let reads: Vec<&[u8]> = seqs.iter().map(|s| s.codes()).collect();
            let pred = self.for_reads(&reads);
            let preds = pred.predict_batch(&reads, &self.table, self.threshold, self.threads);
            Ok::<_, String>((seqs, preds))
        })
        .map_err(PyValueError::new_err)
    }
}

#[pymethods]
impl Predictor {
    #[new]
    #[pyo3(signature = (table = 11, threads = 0, model = None, threshold = 0.5, errors = "auto"))]
    fn new(
        table: u32,
        threads: usize,
        model: Option<std::path::PathBuf>,
        threshold: f32,
        errors: &str,
    ) -> PyResult<Predictor> {
        let table_id = TableId::new(table).map_err(|e| PyValueError::new_err(e.to_string()))?;
        if !(0.0..=1.0).contains(&threshold) {
            return Err(PyValueError::new_err(format!(
                "threshold {threshold} is not between 0 and 1"
            )));
        }
        let files = match &model {
            Some(dir) => ModelFiles::load(dir),
            None => cdspred_model::embedded::default_model(),
        }
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
        let code = table_id.code();
        let threads = if threads == 0 {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        } else {
            threads
        };
        Ok(Predictor {
            base: cdspred_model::Predictor::new(&files),
            table: TableContext::new(code.clone()),
            code,
            table_id,
            threads,
            threshold,
            errors: error_hint(errors)?,
            errors_name: errors.to_string(),
            model_version: files.card.version.clone(),
            weights_sha256: files.card.weights_sha256.clone(),
        })
    }

    /// The model's version label.
    #[getter]
    fn model_version(&self) -> &str {
        &self.model_version
    }

    /// The sha256 of the model's weights (as `cdspred --version` prints it).
    #[getter]
    fn weights_sha256(&self) -> &str {
        &self.weights_sha256
    }

    /// The genetic code.
    #[getter]
    fn table(&self) -> u32 {
        self.table_id.get()
    }

    /// Worker threads used.
    #[getter]
    fn threads(&self) -> usize {
        self.threads
    }

    fn __repr__(&self) -> String {
        format!(
            "Predictor(table={}, threads={}, threshold={}, errors={:?}, model={:?})",
            self.table_id.get(),
            self.threads,
            self.threshold,
            self.errors_name,
            self.model_version
        )
    }

    /// Predicts each sequence (`str` or `bytes`); returns a list of `Read` in order.
    /// `ids` names them (default `seq1`, `seq2`, …).
    #[pyo3(signature = (sequences, ids = None))]
    fn predict(
        &self,
        py: Python<'_>,
        sequences: Vec<SeqIn>,
        ids: Option<Vec<String>>,
    ) -> PyResult<Vec<Read>> {
        let ids = Self::ids(sequences.len(), ids)?;
        let (seqs, preds) = self.run(py, &sequences, &ids)?;
        let mut names = SeqNames::default();
        Ok(ids
            .into_iter()
            .zip(seqs.iter().zip(&preds))
            .map(|(id, (s, p))| {
                let seqid = names.unique(&id).into_owned();
                read_of(id, &seqid, s.codes(), p, &self.code)
            })
            .collect())
    }

    /// Predicts each sequence and returns columns as NumPy arrays (needs numpy):
    /// `length` (int64), `coding_prob`, `sense_prob` (float32, NaN when too short),
    /// `strand` (int8: 1, -1, 0 when not scored), `frame` (int8: 0–2, -1 when not
    /// scored), `coding`, `too_short` (bool), `frameshifts` (int32 count). Raises
    /// ImportError when NumPy is not installed.
    fn predict_arrays<'py>(
        &self,
        py: Python<'py>,
        sequences: Vec<SeqIn>,
    ) -> PyResult<Bound<'py, PyDict>> {
        // Without NumPy this raises ImportError (ModuleNotFoundError) before any work.
        py.import("numpy")?;
        let ids = Self::ids(sequences.len(), None)?;
        let (_, preds) = self.run(py, &sequences, &ids)?;
        let scored = |p: &Prediction| p.call != Call::TooShort;
        let out = PyDict::new(py);
        let col_f32 = |f: fn(&Prediction) -> f32| -> Vec<f32> {
            preds
                .iter()
                .map(|p| if scored(p) { f(p) } else { f32::NAN })
                .collect()
        };
        out.set_item(
            "length",
            preds
                .iter()
                .map(|p| p.length as i64)
                .collect::<Vec<_>>()
                .into_pyarray(py),
        )?;
        out.set_item("coding_prob", col_f32(|p| p.coding_prob).into_pyarray(py))?;
        out.set_item("sense_prob", col_f32(|p| p.sense_prob).into_pyarray(py))?;
        out.set_item(
            "strand",
            preds
                .iter()
                .map(|p| match ReadStrand::from(p.best.map(|b| b.0)) {
                    ReadStrand::Plus => 1i8,
                    ReadStrand::Minus => -1,
                    ReadStrand::None => 0,
                })
                .collect::<Vec<_>>()
                .into_pyarray(py),
        )?;
        out.set_item(
            "frame",
            preds
                .iter()
                .map(|p| {
                    ReadFrame::from(p.best.map(|b| b.1))
                        .offset()
                        .map_or(-1i8, |f| f as i8)
                })
                .collect::<Vec<_>>()
                .into_pyarray(py),
        )?;
        out.set_item(
            "coding",
            preds
                .iter()
                .map(|p| p.call == Call::Coding)
                .collect::<Vec<_>>()
                .into_pyarray(py),
        )?;
        out.set_item(
            "too_short",
            preds
                .iter()
                .map(|p| !scored(p))
                .collect::<Vec<_>>()
                .into_pyarray(py),
        )?;
        out.set_item(
            "frameshifts",
            preds
                .iter()
                .map(|p| p.frameshifts.len() as i32)
                .collect::<Vec<_>>()
                .into_pyarray(py),
        )?;
        Ok(out)
    }

    /// Iterates over the reads of a FASTA/FASTQ file (plain, gzip or zstd; `-` for
    /// standard input), predicting them in chunks as they are read: the file is never
    /// loaded whole. Yields `Read`s in file order; bad input raises `ValueError` when
    /// its record is reached.
    fn predict_file(slf: Py<Self>, py: Python<'_>, path: &str) -> PyResult<ReadIter> {
        let reader = py
            .detach(|| FastxReader::open(path))
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        Ok(ReadIter {
            predictor: slf,
            state: Mutex::new(IterState {
                reader: Some(reader),
                chosen: None,
                pending: VecDeque::new(),
                ready: VecDeque::new(),
                names: SeqNames::default(),
                error: None,
            }),
        })
    }
}

/// The reads of a file, predicted chunk by chunk (see `Predictor.predict_file`).
#[pyclass(frozen, module = "cdspred")]
struct ReadIter {
    predictor: Py<Predictor>,
    state: Mutex<IterState>,
}

/// Where a `ReadIter` is in its file.
struct IterState {
    reader: Option<FastxReader<DynRead>>,
    /// The predictor told what the survey found (set once, on the first chunks).
    chosen: Option<cdspred_model::Predictor>,
    /// Chunks read but not predicted yet (the surveyed ones).
    pending: VecDeque<Vec<Record>>,
    ready: VecDeque<Read>,
    names: SeqNames,
    /// An input error met after the records before it, raised once they are yielded.
    error: Option<String>,
}

/// Reads up to `CHUNK` records; an error ends reading (after the records before it).
fn read_chunk(
    reader: &mut Option<FastxReader<DynRead>>,
    error: &mut Option<String>,
) -> Vec<Record> {
    let mut out = Vec::with_capacity(CHUNK);
    while out.len() < CHUNK {
        let Some(rd) = reader.as_mut() else { break };
        match rd.next_record() {
            Ok(Some(r)) => out.push(r),
            Ok(None) => *reader = None,
            Err(e) => {
                *error = Some(e.to_string());
                *reader = None;
            }
        }
    }
    out
}

#[pymethods]
impl ReadIter {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Option<Read>> {
        let mut guard = self
            .state
            .lock()
            .map_err(|_| PyValueError::new_err("an earlier call failed while reading"))?;
        let st: &mut IterState = &mut guard;
        if let Some(r) = st.ready.pop_front() {
            return Ok(Some(r));
        }
        let p = self.predictor.get();
        let (chosen, reader, pending, error) = (
            &mut st.chosen,
            &mut st.reader,
            &mut st.pending,
            &mut st.error,
        );
        let (records, preds) = py.detach(|| {
            if chosen.is_none() {
                *chosen = Some(match p.errors {
                    ErrorHint::Auto => {
                        // The first chunks are surveyed before any is predicted.
                        let mut est = ErrorEstimate::default();
                        while !est.settled() && reader.is_some() {
                            let chunk = read_chunk(reader, error);
                            let reads: Vec<&[u8]> = chunk.iter().map(|r| r.seq().codes()).collect();
                            survey(&p.base, &mut est, &reads, &p.table, p.threads);
                            pending.push_back(chunk);
                        }
                        est.tell(p.base.clone())
                    }
                    told => told.tell(p.base.clone()),
                });
            }
            let records = pending
                .pop_front()
                .unwrap_or_else(|| read_chunk(reader, error));
            let reads: Vec<&[u8]> = records.iter().map(|r| r.seq().codes()).collect();
            let preds = chosen.as_ref().expect("chosen above").predict_batch(
                &reads,
                &p.table,
                p.threshold,
                p.threads,
            );
            (records, preds)
        });
        for (r, pr) in records.iter().zip(&preds) {
            let seqid = st.names.unique(r.id()).into_owned();
            st.ready.push_back(read_of(
                r.id().to_string(),
                &seqid,
                r.seq().codes(),
                pr,
                &p.code,
            ));
        }
        if let Some(r) = st.ready.pop_front() {
            return Ok(Some(r));
        }
        match st.error.take() {
            Some(e) => Err(PyValueError::new_err(e)),
            None => Ok(None),
        }
    }
}

/// The version of the package and of the cdspred it was built from.
#[pyfunction]
fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

/// `cdspred`: which short DNA reads are protein-coding, on which strand and frame.
#[pymodule]
fn cdspred(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Predictor>()?;
    m.add_class::<Read>()?;
    m.add_class::<ReadIter>()?;
    m.add_function(wrap_pyfunction!(version, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
