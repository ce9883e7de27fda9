//! Per-read predictions.
//!
//! A read of `min_len..=max_len` nt is scored whole. A longer sequence is scored in
//! windows of `window` nt every `stride` nt (the last one flush with the end); its row
//! reports the most confidently coding window, and [`Prediction::segments`] lists the
//! runs of coding windows with their strand and frame in the whole sequence's terms.

use cdspred_core::dna::Base;
use cdspred_core::{Frame, ReadClass, Strand};

use crate::features::{FrameInputs, TableContext};
use crate::files::{ModelConfig, ModelFiles};
use crate::net::{Forward, Model};

/// The verdict for one read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    /// `coding_prob ≥ threshold`.
    Coding,
    /// `coding_prob < threshold`.
    NonCoding,
    /// Shorter than the model's minimum; not scored.
    TooShort,
}

impl Call {
    /// The word used in outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            Call::Coding => "coding",
            Call::NonCoding => "noncoding",
            Call::TooShort => "too_short",
        }
    }
}

/// A coding stretch of a long sequence (0-based, end exclusive).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Segment {
    /// First base.
    pub start: usize,
    /// One past the last base.
    pub end: usize,
    /// Coding strand relative to the whole sequence.
    pub strand: Strand,
    /// Offset of the first full codon of the segment in its sense orientation.
    pub frame: Frame,
    /// Highest window `coding_prob` in the segment.
    pub coding_prob: f32,
}

/// What the model says about one read.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    /// Read length.
    pub length: usize,
    /// Class probabilities (non-coding, +0..+2, −0..−2) of the reported window.
    pub probs: [f32; 7],
    /// 1 − P(non-coding).
    pub coding_prob: f32,
    /// P(the read as given is the coding strand).
    pub sense_prob: f32,
    /// The most likely coding strand and frame (none for too-short reads).
    pub best: Option<(Strand, Frame)>,
    /// The verdict.
    pub call: Call,
    /// Coding stretches (one per coding read; several for long sequences).
    pub segments: Vec<Segment>,
}

/// Reusable buffers for one thread.
#[derive(Debug, Default)]
pub struct Scratch {
    inputs: FrameInputs,
    fw: Forward,
}

/// A model with its inference settings.
#[derive(Debug, Clone)]
pub struct Predictor {
    model: Model,
    config: ModelConfig,
}

impl Predictor {
    /// From loaded files.
    pub fn new(files: &ModelFiles) -> Predictor {
        Predictor {
            model: Model::new(files.weights.clone()),
            config: files.config.clone(),
        }
    }

    /// The config.
    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    /// The network.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// Class probabilities of one window (length ≥ 8).
    pub fn window_probs(&self, codes: &[Base], table: &TableContext, s: &mut Scratch) -> [f32; 7] {
        s.inputs.fill(codes, table);
        self.model.forward(&s.inputs, &mut s.fw);
        s.fw.probs
    }

    /// Class probabilities and the penultimate representation (the mean over the six
    /// frames of the hidden layer) of a read, scored whole or by its first window.
    pub fn represent(
        &self,
        codes: &[Base],
        table: &TableContext,
        s: &mut Scratch,
    ) -> ([f32; 7], Vec<f32>) {
        let end = if codes.len() > self.config.max_len {
            self.config.window
        } else {
            codes.len()
        };
        let probs = self.window_probs(&codes[..end], table, s);
        (probs, s.fw.h_mean.clone())
    }

    /// Predicts one read.
    pub fn predict(
        &self,
        codes: &[Base],
        table: &TableContext,
        threshold: f32,
        s: &mut Scratch,
    ) -> Prediction {
        let len = codes.len();
        if len < self.config.min_len {
            return Prediction {
                length: len,
                probs: [0.0; 7],
                coding_prob: 0.0,
                sense_prob: 0.0,
                best: None,
                call: Call::TooShort,
                segments: Vec::new(),
            };
        }
        let starts = window_starts(len, &self.config);
        let mut best: Option<(f32, usize, [f32; 7])> = None;
        let mut segments: Vec<Segment> = Vec::new();
        for &w in &starts {
            let wlen = if starts.len() == 1 {
                len
            } else {
                self.config.window
            };
            let probs = self.window_probs(&codes[w..w + wlen], table, s);
            let cp = 1.0 - probs[0];
            let (strand, frame) = global_frame(&probs, w, wlen, len);
            if cp >= threshold {
                match segments.last_mut() {
                    Some(seg)
                        if seg.end > w
                            && seg.strand == strand
                            && frame_matches(seg, frame, len) =>
                    {
                        seg.end = w + wlen;
                        seg.coding_prob = seg.coding_prob.max(cp);
                        if strand == Strand::Minus {
                            seg.frame = frame_in_segment(strand, frame, seg.start, seg.end, len);
                        }
                    }
                    _ => segments.push(Segment {
                        start: w,
                        end: w + wlen,
                        strand,
                        frame: frame_in_segment(strand, frame, w, w + wlen, len),
                        coding_prob: cp,
                    }),
                }
            }
            if best.is_none_or(|b| cp > b.0) {
                best = Some((cp, w, probs));
            }
        }
        let (cp, w, probs) = best.expect("at least one window");
        let wlen = if starts.len() == 1 {
            len
        } else {
            self.config.window
        };
        let best_frame = global_frame(&probs, w, wlen, len);
        Prediction {
            length: len,
            probs,
            coding_prob: cp,
            sense_prob: probs[1] + probs[2] + probs[3],
            best: Some(best_frame),
            call: if cp >= threshold {
                Call::Coding
            } else {
                Call::NonCoding
            },
            segments,
        }
    }

    /// Predicts a batch on `threads` threads; results are in input order and do not
    /// depend on the thread count.
    pub fn predict_batch(
        &self,
        reads: &[&[Base]],
        table: &TableContext,
        threshold: f32,
        threads: usize,
    ) -> Vec<Prediction> {
        let threads = threads.max(1).min(reads.len().max(1));
        if threads == 1 {
            let mut s = Scratch::default();
            return reads
                .iter()
                .map(|r| self.predict(r, table, threshold, &mut s))
                .collect();
        }
        let chunk = reads.len().div_ceil(threads);
        std::thread::scope(|sc| {
            let handles: Vec<_> = reads
                .chunks(chunk)
                .map(|part| {
                    sc.spawn(move || {
                        let mut s = Scratch::default();
                        part.iter()
                            .map(|r| self.predict(r, table, threshold, &mut s))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().expect("prediction threads do not panic"))
                .collect()
        })
    }
}

/// Start positions of the windows covering a sequence of `len` nt.
pub fn window_starts(len: usize, cfg: &ModelConfig) -> Vec<usize> {
    if len <= cfg.max_len {
        return vec![0];
    }
    let mut v: Vec<usize> = (0..=len - cfg.window).step_by(cfg.stride).collect();
    if *v.last().expect("len > window") != len - cfg.window {
        v.push(len - cfg.window);
    }
    v
}

/// The best coding class of a window, as strand and frame of the whole sequence.
///
/// For the minus strand the frame is the offset in the reverse complement of the
/// whole sequence; a window `[w, w+wlen)` starts at `len - w - wlen` there.
fn global_frame(probs: &[f32; 7], w: usize, wlen: usize, len: usize) -> (Strand, Frame) {
    let mut k = 1;
    for i in 2..7 {
        if probs[i] > probs[k] {
            k = i;
        }
    }
    let ReadClass::Coding(strand, f) = ReadClass::from_index(k).expect("1..=6") else {
        unreachable!("indices 1..=6 are coding classes")
    };
    let start = match strand {
        Strand::Plus => w,
        Strand::Minus => len - w - wlen,
    };
    (
        strand,
        Frame::new(((start + f.offset() as usize) % 3) as u8).expect("mod 3"),
    )
}

fn frame_matches(seg: &Segment, frame: Frame, len: usize) -> bool {
    seg_global(seg, len) == frame
}

/// The global frame of a segment (offset of its first full codon in the whole
/// sequence's sense orientation, modulo 3).
fn seg_global(seg: &Segment, len: usize) -> Frame {
    let start = match seg.strand {
        Strand::Plus => seg.start,
        Strand::Minus => len - seg.end,
    };
    Frame::new(((start + seg.frame.offset() as usize) % 3) as u8).expect("mod 3")
}

/// Converts a whole-sequence frame into the frame within segment `[start, end)`.
fn frame_in_segment(strand: Strand, global: Frame, start: usize, end: usize, len: usize) -> Frame {
    let s = match strand {
        Strand::Plus => start,
        Strand::Minus => len - end,
    };
    Frame::new(((global.offset() as usize + 3 - s % 3) % 3) as u8).expect("mod 3")
}
