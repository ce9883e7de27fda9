//! Core domain types of cds-predictor, free of any machine-learning dependency.
//!
//! - [`dna`]: validated DNA sequences ([`DnaSeq`]), base codes, reverse complement.
//! - [`code`]: the NCBI genetic codes (all tables 1–33 that exist) as [`GeneticCode`].
//! - [`label`]: what a read is — non-coding, or coding on a [`Strand`] in a [`Frame`].
//! - [`fastx`]: streaming FASTA/FASTQ reading (plain or gzip, detected from content)
//!   with errors that name the file, record and position.
//!
//! Everything that enters the system from the outside is parsed here once; the other
//! crates work with these types and never re-validate.

pub mod code;
pub mod dna;
pub mod fastx;
pub mod label;

pub use code::{GeneticCode, TableId, UnknownTable};
pub use dna::{Base, DnaSeq};
pub use label::{Frame, ReadClass, Strand};
