//! Drawing labelled reads from annotated genomes.
//!
//! Policy (the same as the labelled read sets in `shared/data/eval`):
//! - a *coding* read lies wholly inside one complete CDS; its frame is the offset of
//!   the first full codon in the sense-oriented read;
//! - a *non-coding* read touches no CDS (complete or not), pseudogene or RNA gene on
//!   either strand;
//! - reads crossing a gene boundary are never drawn;
//! - every read is emitted in random orientation (as given, or reverse-complemented,
//!   which flips its strand and keeps its frame);
//! - reads with more than 5% N are redrawn.
//!
//! Redundancy control: with `dedup`, a CDS or intergenic stretch whose sampled 24-mers
//! were already seen (in either orientation) for at least half of them is dropped, so
//! gene families repeated across hundreds of loci are sampled once.

use std::collections::HashSet;

use cdspred_core::code::{codon_index, GeneticCode};
use cdspred_core::dna::revcomp_codes;
use cdspred_core::{Frame, ReadClass, Strand, TableId};

use crate::dataset::{Dataset, ReadLabel};
use crate::genome::Genome;

/// A small, fast, seedable generator (SplitMix64): same seed, same reads.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// From a seed.
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }
    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }
    /// `k` of the given indices chosen at random (partial Fisher–Yates), in ascending order.
    pub fn choose(&mut self, mut idx: Vec<usize>, k: usize) -> Vec<usize> {
        let take = k.min(idx.len());
        for i in 0..take {
            let j = i + self.below((idx.len() - i) as u64) as usize;
            idx.swap(i, j);
        }
        idx.truncate(take);
        idx.sort_unstable();
        idx
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// How many reads of which lengths to draw from one genome.
#[derive(Debug, Clone)]
pub struct SampleSpec {
    /// Read lengths, used in turn.
    pub lengths: Vec<usize>,
    /// Coding reads to draw.
    pub coding: usize,
    /// Non-coding reads to draw.
    pub noncoding: usize,
    /// Drop near-identical loci.
    pub dedup: bool,
    /// Mask stop-to-stop ORFs of at least this many nt from non-coding reads (0 = off).
    pub max_orf: usize,
    /// NCBI genetic code of the genome.
    pub table: TableId,
    /// Source index written with each read.
    pub source: u16,
}

/// What sampling did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SampleStats {
    /// Complete CDSs usable for coding reads.
    pub cds_complete: usize,
    /// CDSs dropped as redundant.
    pub cds_redundant: usize,
    /// Intergenic stretches dropped as redundant.
    pub intergenic_redundant: usize,
    /// Intergenic nucleotides masked as lying in a long unannotated ORF.
    pub orf_masked_nt: usize,
    /// Coding reads drawn.
    pub coding: usize,
    /// Non-coding reads drawn.
    pub noncoding: usize,
    /// Reads that could not be drawn (no room at that length, or too many N).
    pub short_of: usize,
}

const K: usize = 24;

fn kmers(codes: &[u8], step: usize) -> impl Iterator<Item = u64> + '_ {
    (0..codes.len().saturating_sub(K - 1))
        .step_by(step)
        .filter_map(move |i| {
            let w = &codes[i..i + K];
            if w.iter().any(|&b| b > 3) {
                return None;
            }
            let (mut f, mut r) = (0u64, 0u64);
            for j in 0..K {
                f = (f << 2) | w[j] as u64;
                r = (r << 2) | (3 - w[K - 1 - j]) as u64;
            }
            Some(f.min(r))
        })
}

/// Keeps a region unless half its sampled k-mers were seen; records its k-mers.
fn novel(seen: &mut HashSet<u64>, codes: &[u8]) -> bool {
    let probe: Vec<u64> = kmers(codes, 8).collect();
    if !probe.is_empty() {
        let hits = probe.iter().filter(|k| seen.contains(k)).count();
        if hits * 2 >= probe.len() {
            return false;
        }
    }
    seen.extend(kmers(codes, 1));
    true
}

struct Region {
    contig: usize,
    start: usize,
    end: usize,
    strand: Strand,
}

/// Stop-to-stop open reading frames of at least `min_len` nt on either strand, as
/// half-open intervals `[start, end)` of `codes` (an ORF reaching a contig end counts;
/// codons with an N are not stops).
pub fn long_orfs(codes: &[u8], code: &GeneticCode, min_len: usize) -> Vec<(usize, usize)> {
    let n = codes.len();
    let rc = revcomp_codes(codes);
    let mut out = Vec::new();
    for (strand, seq) in [(Strand::Plus, codes), (Strand::Minus, &rc[..])] {
        for offset in 0..3 {
            // `open` = start of the current stop-free stretch in `seq` coordinates.
            let mut open = offset;
            let mut i = offset;
            let mut close = |a: usize, b: usize| {
                if b > a && b - a >= min_len {
                    out.push(match strand {
                        Strand::Plus => (a, b),
                        Strand::Minus => (n - b, n - a),
                    });
                }
            };
            while i + 3 <= n {
                let c = &seq[i..i + 3];
                if c.iter().all(|&b| b < 4) && code.is_stop(codon_index(c)) {
                    close(open, i);
                    open = i + 3;
                }
                i += 3;
            }
            close(open, n);
        }
    }
    out
}

/// Draws reads from a genome into `out`.
pub fn sample_genome(
    genome: &Genome,
    spec: &SampleSpec,
    rng: &mut Rng,
    out: &mut Dataset,
) -> SampleStats {
    let mut stats = SampleStats::default();
    let mut seen = HashSet::new();
    let mut coding: Vec<Region> = Vec::new();
    let mut free: Vec<Region> = Vec::new();
    let code = spec.table.code();
    for (ci, c) in genome.contigs.iter().enumerate() {
        let n = c.seq.len();
        let mut occupied = vec![false; n];
        for g in &c.cds {
            occupied[g.start..g.end].iter_mut().for_each(|o| *o = true);
        }
        for &(s, e) in &c.blocked {
            occupied[s..e].iter_mut().for_each(|o| *o = true);
        }
        if spec.max_orf > 0 {
            for (s, e) in long_orfs(c.seq.codes(), &code, spec.max_orf) {
                // Explained when CDSs cover all but a short part of it.
                let uncovered = occupied[s..e].iter().filter(|o| !**o).count();
                if uncovered < spec.max_orf {
                    continue;
                }
                for o in &mut occupied[s..e] {
                    stats.orf_masked_nt += usize::from(!*o);
                    *o = true;
                }
            }
        }
        for g in c.cds.iter().filter(|g| g.complete) {
            stats.cds_complete += 1;
            if spec.dedup && !novel(&mut seen, &c.seq.codes()[g.start..g.end]) {
                stats.cds_redundant += 1;
                continue;
            }
            coding.push(Region {
                contig: ci,
                start: g.start,
                end: g.end,
                strand: g.strand,
            });
        }
        let mut i = 0;
        while i < n {
            if occupied[i] {
                i += 1;
                continue;
            }
            let s = i;
            while i < n && !occupied[i] {
                i += 1;
            }
            if spec.dedup && !novel(&mut seen, &c.seq.codes()[s..i]) {
                stats.intergenic_redundant += 1;
                continue;
            }
            free.push(Region {
                contig: ci,
                start: s,
                end: i,
                strand: Strand::Plus,
            });
        }
    }
    for (want, is_coding) in [(spec.coding, true), (spec.noncoding, false)] {
        let regions = if is_coding { &coding } else { &free };
        let mut cum_by_len: std::collections::HashMap<usize, Vec<u64>> = Default::default();
        for k in 0..want {
            let len = spec.lengths[k % spec.lengths.len()];
            let cum = cum_by_len.entry(len).or_insert_with(|| {
                let mut acc = 0u64;
                regions
                    .iter()
                    .map(|r| {
                        acc += (r.end - r.start).saturating_sub(len - 1) as u64;
                        acc
                    })
                    .collect()
            });
            let drawn = draw(genome, regions, cum, len, is_coding, rng);
            match drawn {
                Some((codes, label)) => {
                    out.push(&codes, ReadLabel::Class(label), spec.table, spec.source);
                    if is_coding {
                        stats.coding += 1;
                    } else {
                        stats.noncoding += 1;
                    }
                }
                None => stats.short_of += 1,
            }
        }
    }
    stats
}

/// One read of `len` nt from a random position of the regions, weighted by room;
/// `cum` holds the running total of start positions per region.
fn draw(
    genome: &Genome,
    regions: &[Region],
    cum: &[u64],
    len: usize,
    coding: bool,
    rng: &mut Rng,
) -> Option<(Vec<u8>, ReadClass)> {
    let total = cum.last().copied().unwrap_or(0);
    if total == 0 {
        return None;
    }
    for _attempt in 0..20 {
        let pick = rng.below(total);
        let ri = cum.partition_point(|&c| c <= pick);
        let before = if ri == 0 { 0 } else { cum[ri - 1] };
        let r = &regions[ri];
        let p = r.start + (pick - before) as usize;
        let seq = &genome.contigs[r.contig].seq.codes()[p..p + len];
        if seq.iter().filter(|&&b| b > 3).count() * 20 > len {
            continue;
        }
        let class = if coding {
            // Distance from the CDS start to the read start, in the gene's sense.
            let into = match r.strand {
                Strand::Plus => p - r.start,
                Strand::Minus => r.end - (p + len),
            };
            let frame = Frame::new(((3 - into % 3) % 3) as u8).expect("mod 3");
            ReadClass::Coding(r.strand, frame)
        } else {
            ReadClass::NonCoding
        };
        return Some(if rng.below(2) == 1 {
            (revcomp_codes(seq), class.mirrored())
        } else {
            (seq.to_vec(), class)
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::genome::{Cds, Contig};
    use cdspred_core::code::{translate, GeneticCode};
    use cdspred_core::DnaSeq;

    /// A contig with one gene per strand whose frames have no internal stops only in
    /// the annotated frame; sampled labels must agree with translation.
    #[test]
    fn coding_labels_match_stop_free_frames() {
        let mut rng = Rng::new(7);
        let codons = ["GCT", "GAA", "CTG", "AAA", "GGC", "ATT", "CGT"];
        let mut gene = String::from("ATG");
        for _ in 0..200 {
            gene.push_str(codons[rng.below(7) as usize]);
        }
        gene.push_str("TAA");
        let fwd = DnaSeq::from_ascii(gene.as_bytes()).unwrap();
        let mut text = "TTTTTTTTTT".to_string() + &gene + "CCCCCCCCCC";
        text += &fwd.reverse_complement().to_ascii();
        let seq = DnaSeq::from_ascii(text.as_bytes()).unwrap();
        let g = gene.len();
        let genome = Genome {
            contigs: vec![Contig {
                id: "c".into(),
                seq,
                cds: vec![
                    Cds {
                        start: 10,
                        end: 10 + g,
                        strand: Strand::Plus,
                        complete: true,
                    },
                    Cds {
                        start: 20 + g,
                        end: 20 + 2 * g,
                        strand: Strand::Minus,
                        complete: true,
                    },
                ],
                blocked: vec![],
            }],
            skipped: vec![],
        };
        let spec = SampleSpec {
            lengths: vec![60, 99],
            coding: 200,
            noncoding: 0,
            dedup: false,
            max_orf: 0,
            table: TableId::BACTERIAL,
            source: 0,
        };
        let mut ds = Dataset::default();
        let st = sample_genome(&genome, &spec, &mut rng, &mut ds);
        assert_eq!(st.coding, 200);
        let code = GeneticCode::bacterial();
        for s in &ds.samples {
            let ReadLabel::Class(ReadClass::Coding(strand, frame)) = s.label else {
                panic!()
            };
            let read = ds.read(s).to_vec();
            let sense = if strand == Strand::Plus {
                read
            } else {
                revcomp_codes(&read)
            };
            let prot = translate(&sense, frame.offset() as usize, &code);
            assert!(!prot.trim_end_matches('*').contains('*'), "{prot}");
        }
    }

    /// ORFs are found on both strands, stop to stop, with contig ends as open ends.
    #[test]
    fn long_orfs_on_both_strands() {
        let code = GeneticCode::bacterial();
        // + frame 0: TAA at 0, then 10 open codons, then TAG at 33.
        let mut text = String::from("TAA");
        text += &"GCT".repeat(10);
        text += "TAG";
        let seq = DnaSeq::from_ascii(text.as_bytes()).unwrap();
        let orfs = long_orfs(seq.codes(), &code, 30);
        assert!(orfs.contains(&(3, 33)), "{orfs:?}");
        // The reverse complement has the same ORF on the minus strand, same coordinates.
        let rc = seq.reverse_complement();
        let orfs_rc = long_orfs(rc.codes(), &code, 30);
        assert!(orfs_rc.contains(&(3, 33)), "{orfs_rc:?}");
        // Nothing reaches 31 codons.
        assert!(long_orfs(seq.codes(), &code, 34)
            .iter()
            .all(|(s, e)| e - s >= 34));
        assert!(!long_orfs(seq.codes(), &code, 34).contains(&(3, 33)));
    }

    /// With `max_orf`, non-coding reads avoid an unannotated long ORF; without, they
    /// do not.
    #[test]
    fn noncoding_reads_avoid_unannotated_long_orfs() {
        let mut rng = Rng::new(11);
        let at_rich = |rng: &mut Rng, n: usize| -> String {
            (0..n)
                .map(|_| ['A', 'T', 'A', 'T', 'G', 'C'][rng.below(6) as usize])
                .collect()
        };
        let text = at_rich(&mut rng, 2000) + &"GCT".repeat(200) + &at_rich(&mut rng, 2000);
        let genome = Genome {
            contigs: vec![Contig {
                id: "c".into(),
                seq: DnaSeq::from_ascii(text.as_bytes()).unwrap(),
                cds: vec![],
                blocked: vec![],
            }],
            skipped: vec![],
        };
        let inside_orf = |max_orf: usize| {
            let spec = SampleSpec {
                lengths: vec![60],
                coding: 0,
                noncoding: 400,
                dedup: false,
                max_orf,
                table: TableId::BACTERIAL,
                source: 0,
            };
            let mut ds = Dataset::default();
            let st = sample_genome(&genome, &spec, &mut Rng::new(3), &mut ds);
            assert_eq!(st.noncoding, 400);
            let orf = "GCT".repeat(20);
            let orf_rc = "AGC".repeat(20);
            let hits = ds
                .samples
                .iter()
                .filter(|s| {
                    let r = DnaSeq::from_codes(ds.read(s).to_vec()).unwrap().to_ascii();
                    r.contains(&orf[..30]) || r.contains(&orf_rc[..30])
                })
                .count();
            (hits, st.orf_masked_nt)
        };
        let (hits, masked) = inside_orf(450);
        assert_eq!(hits, 0);
        assert!(masked >= 600, "{masked}");
        let (hits, masked) = inside_orf(0);
        assert!(hits > 0);
        assert_eq!(masked, 0);
    }
}
