//! Per-read features and reference profiles.
//!
//! | feature | kind | what |
//! |---|---|---|
//! | `length` | numeric | read length |
//! | `gc` | numeric | GC share of called bases |
//! | `n_fraction` | numeric | share of N |
//! | `coding_prob` | numeric | the model's coding probability |
//! | `stop_rate` | numeric | internal stop codons per codon in the predicted frame, under the read's genetic code |
//! | `kmer1`…`kmer4` | spectrum | 1- to 4-mer counts over all reads |
//! | `codon_usage` | spectrum | codons of the predicted frame of coding reads (under table 11 meaning) |
//! | `calls` | categorical | non-coding, +0, +1, +2, −0, −1, −2 |
//! | `representation` | vectors | the model's penultimate layer (mean over frames), for the domain classifier |

use std::collections::BTreeMap;

use cdspred_core::code::codon_index;
use cdspred_core::dna::revcomp_codes;
use cdspred_core::{ReadClass, Strand, TableId};
use cdspred_data::sample::Rng;
use cdspred_data::Dataset;
use cdspred_model::predict::Scratch;
use cdspred_model::{Call, Predictor, TableContext};
use serde::{Deserialize, Serialize};

/// Numeric features, in report order.
pub const NUMERIC: [&str; 5] = ["length", "gc", "n_fraction", "coding_prob", "stop_rate"];
/// Spectrum and categorical features, in report order.
pub const CATEGORICAL: [&str; 6] = ["kmer1", "kmer2", "kmer3", "kmer4", "codon_usage", "calls"];

/// Features of a set of reads.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Collected {
    /// Reads seen.
    pub n_reads: usize,
    /// Values per numeric feature.
    pub numeric: BTreeMap<String, Vec<f32>>,
    /// Counts per category of each spectrum/categorical feature.
    pub categorical: BTreeMap<String, Vec<f64>>,
    /// Penultimate-layer vectors.
    pub representation: Vec<Vec<f32>>,
}

/// A model's reference profile (`profile.json` beside its weights): the training mix
/// and each training source on its own. Current reads are compared with the mix and
/// with every source, and judged against the closest, so a sample from any one
/// training genome is not mistaken for drift from the mix.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Profile {
    /// All training reads.
    pub mixture: Collected,
    /// Per training source.
    pub sources: BTreeMap<String, Collected>,
}

impl Profile {
    /// The reference profile of a training dataset: `sample` reads drawn at random
    /// (fixed seed) for the mixture, and up to 3,000 per source, each source named by
    /// `source_names` in recipe order (`source_N` when a name is missing).
    pub fn from_dataset(
        pred: &Predictor,
        ds: &Dataset,
        source_names: &[String],
        sample: usize,
        threads: usize,
    ) -> Profile {
        // A fixed-seed random sample: datasets are ordered by source and length, so a
        // stride would pick one length only.
        let mut rng = Rng::new(0x5eed);
        let reads_of = |idx: Vec<usize>| -> Vec<(&[u8], TableId)> {
            idx.iter()
                .map(|&i| (ds.read(&ds.samples[i]), ds.samples[i].table))
                .collect()
        };
        let reads = reads_of(rng.choose((0..ds.samples.len()).collect(), sample));
        let mixture = collect(pred, &reads, threads).thin(5000, 1000);
        let mut by_source: BTreeMap<u16, Vec<usize>> = BTreeMap::new();
        for (i, s) in ds.samples.iter().enumerate() {
            by_source.entry(s.source).or_default().push(i);
        }
        let mut sources = BTreeMap::new();
        for (src, ids) in by_source {
            let reads = reads_of(rng.choose(ids, 3000));
            let name = source_names
                .get(src as usize)
                .cloned()
                .unwrap_or_else(|| format!("source_{src}"));
            sources.insert(name, collect(pred, &reads, threads).thin(2000, 300));
        }
        Profile { mixture, sources }
    }
}

impl Collected {
    fn empty() -> Collected {
        let mut c = Collected::default();
        for n in NUMERIC {
            c.numeric.insert(n.into(), Vec::new());
        }
        for (n, k) in CATEGORICAL.iter().zip([4, 16, 64, 256, 64, 7]) {
            c.categorical.insert(n.to_string(), vec![0.0; k]);
        }
        c
    }

    fn merge(&mut self, o: Collected) {
        self.n_reads += o.n_reads;
        for (k, v) in o.numeric {
            self.numeric.entry(k).or_default().extend(v);
        }
        for (k, v) in o.categorical {
            let e = self
                .categorical
                .entry(k)
                .or_insert_with(|| vec![0.0; v.len()]);
            e.iter_mut().zip(v).for_each(|(a, b)| *a += b);
        }
        self.representation.extend(o.representation);
    }

    /// Keeps at most `max_values` numeric values and `max_vectors` vectors (evenly spaced).
    pub fn thin(mut self, max_values: usize, max_vectors: usize) -> Collected {
        for v in self.numeric.values_mut() {
            *v = thin(std::mem::take(v), max_values);
        }
        self.representation = thin(std::mem::take(&mut self.representation), max_vectors);
        for v in self.representation.iter_mut() {
            v.iter_mut().for_each(|x| *x = (*x * 1e4).round() / 1e4);
        }
        self
    }
}

fn thin<T>(v: Vec<T>, max: usize) -> Vec<T> {
    if v.len() <= max {
        return v;
    }
    let n = v.len();
    v.into_iter()
        .enumerate()
        .filter(|(i, _)| (i * max) / n != ((i + 1) * max) / n)
        .map(|x| x.1)
        .collect()
}

fn one(pred: &Predictor, codes: &[u8], table: &TableContext, s: &mut Scratch, out: &mut Collected) {
    out.n_reads += 1;
    let len = codes.len();
    let called = codes.iter().filter(|&&b| b < 4).count();
    let gc = codes.iter().filter(|&&b| b == 1 || b == 2).count();
    let num = &mut out.numeric;
    num.get_mut("length").expect("initialised").push(len as f32);
    num.get_mut("gc").expect("initialised").push(if called > 0 {
        gc as f32 / called as f32
    } else {
        0.0
    });
    num.get_mut("n_fraction")
        .expect("initialised")
        .push((len - called) as f32 / len.max(1) as f32);
    for k in 1..=4usize {
        let spec = out
            .categorical
            .get_mut(&format!("kmer{k}"))
            .expect("initialised");
        for w in codes.windows(k) {
            if w.iter().all(|&b| b < 4) {
                spec[w.iter().fold(0usize, |a, &b| a * 4 + b as usize)] += 1.0;
            }
        }
    }
    if len < pred.config().min_len {
        out.categorical.get_mut("calls").expect("initialised")[0] += 1.0;
        return;
    }
    let p = pred.predict(codes, table, 0.5, s);
    let (_, rep) = pred.represent(codes, table, s);
    out.representation.push(rep);
    out.numeric
        .get_mut("coding_prob")
        .expect("initialised")
        .push(p.coding_prob);
    let (strand, frame) = p.best.expect("scored reads have a frame");
    let class = if p.call == Call::Coding {
        ReadClass::Coding(strand, frame).index()
    } else {
        0
    };
    out.categorical.get_mut("calls").expect("initialised")[class] += 1.0;
    let sense = if strand == Strand::Plus {
        codes.to_vec()
    } else {
        revcomp_codes(codes)
    };
    let codons: Vec<usize> = sense[frame.offset() as usize..]
        .chunks_exact(3)
        .map(codon_index)
        .collect();
    if codons.len() >= 2 {
        let stops = codons[..codons.len() - 1]
            .iter()
            .filter(|&&c| table.code().is_stop(c))
            .count();
        out.numeric
            .get_mut("stop_rate")
            .expect("initialised")
            .push(stops as f32 / (codons.len() - 1) as f32);
    }
    if p.call == Call::Coding {
        let usage = out.categorical.get_mut("codon_usage").expect("initialised");
        for &c in &codons {
            if c < 64 {
                usage[c] += 1.0;
            }
        }
    }
}

/// Features of reads, each with its genetic code, on `threads` threads (the result
/// does not depend on the thread count).
pub fn collect(pred: &Predictor, reads: &[(&[u8], TableId)], threads: usize) -> Collected {
    let mut tables: BTreeMap<TableId, TableContext> = BTreeMap::new();
    for &(_, t) in reads {
        tables
            .entry(t)
            .or_insert_with(|| TableContext::new(t.code()));
    }
    let chunk = reads.len().div_ceil(threads.max(1)).max(1);
    let parts: Vec<Collected> = std::thread::scope(|sc| {
        let hs: Vec<_> = reads
            .chunks(chunk)
            .map(|part| {
                let tables = &tables;
                sc.spawn(move || {
                    let mut c = Collected::empty();
                    let mut s = Scratch::default();
                    for &(codes, t) in part {
                        one(pred, codes, &tables[&t], &mut s, &mut c);
                    }
                    c
                })
            })
            .collect();
        hs.into_iter()
            .map(|h| h.join().expect("drift threads do not panic"))
            .collect()
    });
    let mut all = Collected::empty();
    for p in parts {
        all.merge(p);
    }
    // Profiles store 4 decimals; current reads get the same rounding so ties match.
    for v in all.numeric.values_mut() {
        v.iter_mut().for_each(|x| *x = (*x * 1e4).round() / 1e4);
    }
    all
}
