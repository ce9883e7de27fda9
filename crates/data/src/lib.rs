//! Building training data from annotated genomes.
//!
//! - [`genome`]: the annotated genome model ([`Genome`], [`Contig`], [`Cds`]) and the
//!   readers for GenBank, GFF3 (with or without `##FASTA`), FASTA + gene-finder GFF and
//!   FASTA + pyrodigal-style protein FASTA. Errors name the file and line.
//! - [`sample`]: drawing labelled reads from genomes (coding reads wholly inside a
//!   complete CDS, non-coding reads touching no gene on either strand, random
//!   orientation), with redundancy control for near-identical loci.
//! - [`dataset`]: the compact dataset file and its reader.
//! - [`recipe`]: the TOML recipe that names every source (and the public package it
//!   comes from), and [`recipe::build`], which writes the dataset and its manifest.
//! - [`seed`]: the original project's CSV fragment sets.
//! - [`errors`]: named, versioned sequencing-error profiles (substitutions, indels,
//!   homopolymer indels, ancient-DNA deamination) that mutate labelled reads and keep
//!   their strand and frame labels true.

pub mod dataset;
pub mod errors;
pub mod genbank;
pub mod genome;
pub mod recipe;
pub mod sample;
pub mod seed;

pub use dataset::{Dataset, ReadLabel, Sample};
pub use errors::{ErrorProfile, ProfileError};
pub use genome::{Cds, Contig, Genome, GenomeError};
