//! Streaming FASTA/FASTQ reading.
//!
//! [`FastxReader::open`] takes a path (or `-` for standard input), detects gzip and zstd
//! from the first bytes (never from the name; bzip2 and xz are named in an error) and
//! the format from the first character, and
//! then yields one [`Record`] at a time in bounded memory. Every error names the file,
//! the record (1-based index and id when known) and the line and column.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use crate::dna::{base_of, Base, DnaSeq};

/// The two formats read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `>` headers, multi-line sequences.
    Fasta,
    /// Four-line records: `@id`, sequence, `+`, qualities.
    Fastq,
}

/// What went wrong in a record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FastxErrorKind {
    /// The file could not be opened.
    #[error("{0}")]
    Open(String),
    /// Reading failed (truncated gzip, unsupported compression, …).
    #[error("{0}")]
    Io(String),
    /// The first non-blank character is neither `>` nor `@`.
    #[error("not FASTA or FASTQ: expected '>' or '@' but found {0:?}")]
    UnknownFormat(char),
    /// A character that is not a nucleotide or IUPAC code.
    #[error("invalid base {byte:?} at column {column}")]
    InvalidBase {
        /// 1-based column on the line.
        column: usize,
        /// The character.
        byte: char,
    },
    /// A record with no sequence.
    #[error("empty record: no sequence")]
    EmptyRecord,
    /// A header with no identifier.
    #[error("record has no identifier")]
    MissingId,
    /// A FASTQ record whose qualities and sequence differ in length.
    #[error("quality length {qual} differs from sequence length {seq}")]
    QualityLength {
        /// Sequence length.
        seq: usize,
        /// Quality length.
        qual: usize,
    },
    /// A FASTQ record cut short or without its `+` line.
    #[error("malformed FASTQ record: {0}")]
    BadFastq(&'static str),
    /// A line longer than the reader accepts.
    #[error("line longer than {0} bytes")]
    LineTooLong(u64),
    /// A header line longer than the reader accepts.
    #[error("header longer than {0} bytes")]
    HeaderTooLong(usize),
}

/// Longest line read: a 1-Gb chromosome fits on one line; memory stays bounded on an
/// endless one.
pub const MAX_LINE: u64 = 1 << 30;
/// Longest header line (the first line of a file is read at most this far).
pub const MAX_HEADER: usize = 1 << 20;

/// An error that names where in which file it happened: `cannot open FILE: reason`,
/// `FILE: reason` before the first line, else `FILE: record N (id), line L: reason`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FastxError {
    /// The file as named by the user (`-` for stdin).
    pub file: String,
    /// 1-based record index (0 before the first record).
    pub record: u64,
    /// Identifier of the record, when it was read.
    pub id: Option<String>,
    /// 1-based line number (0 when not tied to a line).
    pub line: u64,
    /// What went wrong.
    pub kind: FastxErrorKind,
}

impl std::fmt::Display for FastxError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.kind {
            FastxErrorKind::Open(reason) => write!(f, "cannot open {}: {reason}", self.file),
            kind if self.record == 0 && self.line == 0 => write!(f, "{}: {kind}", self.file),
            kind => {
                let id = self
                    .id
                    .as_deref()
                    .map(|i| format!(" ({i})"))
                    .unwrap_or_default();
                write!(
                    f,
                    "{}: record {}{id}, line {}: {kind}",
                    self.file, self.record, self.line
                )
            }
        }
    }
}

impl std::error::Error for FastxError {}

impl FastxError {
    /// `path` could not be opened.
    pub fn cannot_open(path: &str, e: &io::Error) -> FastxError {
        FastxError {
            file: path.to_string(),
            record: 0,
            id: None,
            line: 0,
            kind: FastxErrorKind::Open(e.to_string()),
        }
    }
}

/// One sequence record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    id: String,
    seq: DnaSeq,
}

impl Record {
    /// A record from parts.
    pub fn new(id: String, seq: DnaSeq) -> Record {
        Record { id, seq }
    }
    /// The identifier: the header's first word.
    pub fn id(&self) -> &str {
        &self.id
    }
    /// The sequence.
    pub fn seq(&self) -> &DnaSeq {
        &self.seq
    }
    /// Splits into parts.
    pub fn into_parts(self) -> (String, DnaSeq) {
        (self.id, self.seq)
    }
}

/// A streaming reader of FASTA or FASTQ records.
pub struct FastxReader<R> {
    inner: R,
    file: String,
    format: Option<Format>,
    line_no: u64,
    record_no: u64,
    line: Vec<u8>,
    /// A header line read ahead while finishing the previous FASTA record.
    pending_header: bool,
    done: bool,
}

/// A boxed, sendable buffered reader.
pub type DynRead = Box<dyn BufRead + Send>;

/// Magic bytes of compressed formats that are named, not read.
const UNREAD_COMPRESSION: [(&[u8], &str, &str); 2] = [
    (b"BZh", "bzip2", "bzip2 -dc"),
    (&[0xfd, b'7', b'z', b'X', b'Z', 0], "xz", "xz -dc"),
];
/// The zstd frame magic (little-endian 0xFD2FB528).
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// Buffers a byte stream, decompressing it when it starts with the gzip or zstd magic
/// bytes; bzip2 and xz input is refused with an error that names the format.
pub fn decompressing(raw: Box<dyn Read + Send>) -> io::Result<DynRead> {
    let mut buf = BufReader::with_capacity(1 << 16, raw);
    let head = buf.fill_buf()?;
    if head.starts_with(&[0x1f, 0x8b]) {
        return Ok(Box::new(BufReader::with_capacity(
            1 << 16,
            flate2::bufread::MultiGzDecoder::new(buf),
        )));
    }
    if head.starts_with(&ZSTD_MAGIC) {
        return Ok(Box::new(BufReader::with_capacity(
            1 << 16,
            ZstdFrames::new(buf)?,
        )));
    }
    for (magic, name, tool) in UNREAD_COMPRESSION {
        if head.starts_with(magic) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{name}-compressed input is not read (gzip and zstd are): decompress it first, e.g. `{tool} FILE | cdspred predict -`"
                ),
            ));
        }
    }
    Ok(Box::new(buf))
}

/// A zstd stream of one or more frames, decoded in turn.
struct ZstdFrames<R: BufRead> {
    frame: Option<ruzstd::decoding::StreamingDecoder<R, ruzstd::decoding::FrameDecoder>>,
}

impl<R: BufRead> ZstdFrames<R> {
    fn new(src: R) -> io::Result<ZstdFrames<R>> {
        Ok(ZstdFrames {
            frame: Some(Self::frame(src)?),
        })
    }

    fn frame(
        src: R,
    ) -> io::Result<ruzstd::decoding::StreamingDecoder<R, ruzstd::decoding::FrameDecoder>> {
        ruzstd::decoding::StreamingDecoder::new(src)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("zstd: {e}")))
    }
}

impl<R: BufRead> Read for ZstdFrames<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let Some(frame) = self.frame.as_mut() else {
                return Ok(0);
            };
            let n = frame
                .read(buf)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("zstd: {e}")))?;
            if n > 0 || buf.is_empty() {
                return Ok(n);
            }
            // This frame is done: another may follow.
            let mut src = self.frame.take().expect("checked above").into_inner();
            if src.fill_buf()?.is_empty() {
                return Ok(0);
            }
            self.frame = Some(Self::frame(src)?);
        }
    }
}

/// Opens a file for reading, plain or gzip: the one opener of every text input the
/// project reads (sequences, annotations, truth tables, seed CSVs). A file that
/// cannot be opened gives an error that starts with "cannot open".
pub fn open_path(path: &Path) -> io::Result<DynRead> {
    let f = File::open(path).map_err(|e| io::Error::new(e.kind(), format!("cannot open: {e}")))?;
    decompressing(Box::new(f))
}

impl FastxReader<DynRead> {
    /// Opens a path, or standard input for `-`, decompressing gzip or zstd when present.
    pub fn open(path: &str) -> Result<Self, FastxError> {
        let raw: Box<dyn Read + Send> = if path == "-" {
            Box::new(io::stdin())
        } else {
            Box::new(File::open(path).map_err(|e| FastxError::cannot_open(path, &e))?)
        };
        let reader = decompressing(raw).map_err(|e| FastxError {
            file: path.to_string(),
            record: 0,
            id: None,
            line: 0,
            kind: FastxErrorKind::Io(e.to_string()),
        })?;
        Ok(FastxReader::new(reader, path))
    }
}

impl<R: BufRead> FastxReader<R> {
    /// Wraps a buffered reader; `file` names it in errors.
    pub fn new(inner: R, file: &str) -> Self {
        FastxReader {
            inner,
            file: file.to_string(),
            format: None,
            line_no: 0,
            record_no: 0,
            line: Vec::with_capacity(512),
            pending_header: false,
            done: false,
        }
    }

    /// The format, once the first record has been seen.
    pub fn format(&self) -> Option<Format> {
        self.format
    }

    fn err(&self, id: Option<&str>, kind: FastxErrorKind) -> FastxError {
        FastxError {
            file: self.file.clone(),
            record: self.record_no,
            id: id.map(str::to_string),
            line: self.line_no,
            kind,
        }
    }

    /// Reads the next line into `self.line` without its line ending; false at EOF.
    fn next_line(&mut self, id: Option<&str>) -> Result<bool, FastxError> {
        self.read_line(id, MAX_LINE)
    }

    /// [`Self::next_line`], reading at most `limit` bytes (an error beyond).
    fn read_line(&mut self, id: Option<&str>, limit: u64) -> Result<bool, FastxError> {
        self.line.clear();
        match (&mut self.inner)
            .take(limit)
            .read_until(b'\n', &mut self.line)
        {
            Ok(0) => Ok(false),
            Ok(n) => {
                self.line_no += 1;
                if n as u64 == limit && self.line.last() != Some(&b'\n') {
                    if limit < MAX_LINE {
                        // Only the first header is read with the header limit: it
                        // belongs to the first record.
                        let mut e = self.err(id, FastxErrorKind::HeaderTooLong(limit as usize));
                        e.record = self.record_no + 1;
                        return Err(e);
                    }
                    return Err(self.err(id, FastxErrorKind::LineTooLong(limit)));
                }
                while matches!(self.line.last(), Some(b'\n' | b'\r')) {
                    self.line.pop();
                }
                Ok(true)
            }
            Err(e) => {
                let msg = if e.kind() == io::ErrorKind::UnexpectedEof {
                    format!("input ends early (truncated gzip?): {e}")
                } else {
                    e.to_string()
                };
                Err(self.err(id, FastxErrorKind::Io(msg)))
            }
        }
    }

    fn header_id(&self, id: Option<&str>) -> Result<String, FastxError> {
        if self.line.len() > MAX_HEADER {
            return Err(self.err(id, FastxErrorKind::HeaderTooLong(MAX_HEADER)));
        }
        let text = String::from_utf8_lossy(&self.line[1..]);
        match text.split_whitespace().next() {
            Some(w) => Ok(w.to_string()),
            None => Err(self.err(id, FastxErrorKind::MissingId)),
        }
    }

    fn push_bases(&self, codes: &mut Vec<Base>, id: &str) -> Result<(), FastxError> {
        for (i, &c) in self.line.iter().enumerate() {
            match base_of(c) {
                Some(b) => codes.push(b),
                None if c == b' ' || c == b'\t' => {}
                None => {
                    return Err(self.err(
                        Some(id),
                        FastxErrorKind::InvalidBase {
                            column: i + 1,
                            byte: c as char,
                        },
                    ))
                }
            }
        }
        Ok(())
    }

    /// The next record, `None` at the end of input.
    pub fn next_record(&mut self) -> Result<Option<Record>, FastxError> {
        if self.done {
            return Ok(None);
        }
        if self.format.is_none() {
            loop {
                // A file that is not FASTA/FASTQ is refused on its first byte, before
                // any of it is buffered (a binary file, /dev/zero).
                let first = match self.inner.fill_buf() {
                    Ok(b) => b.first().copied(),
                    Err(e) => return Err(self.err(None, FastxErrorKind::Io(e.to_string()))),
                };
                if let Some(c) = first.filter(|c| !b">@\r\n".contains(c)) {
                    self.record_no = 1;
                    self.line_no += 1;
                    return Err(self.err(None, FastxErrorKind::UnknownFormat(c as char)));
                }
                if !self.read_line(None, MAX_HEADER as u64)? {
                    self.done = true;
                    return Ok(None);
                }
                match self.line.first() {
                    None => continue,
                    Some(b'>') => self.format = Some(Format::Fasta),
                    Some(b'@') => self.format = Some(Format::Fastq),
                    Some(&c) => {
                        self.record_no = 1;
                        return Err(self.err(None, FastxErrorKind::UnknownFormat(c as char)));
                    }
                }
                self.pending_header = true;
                break;
            }
        }
        match self.format {
            Some(Format::Fasta) => self.next_fasta(),
            _ => self.next_fastq(),
        }
    }

    /// Reads lines up to the next non-blank one (the next header); false at the end of
    /// the input (then the reader is done).
    fn skip_blank_lines(&mut self) -> Result<bool, FastxError> {
        loop {
            if !self.next_line(None)? {
                self.done = true;
                return Ok(false);
            }
            if !self.line.is_empty() {
                return Ok(true);
            }
        }
    }

    fn next_fasta(&mut self) -> Result<Option<Record>, FastxError> {
        if !self.pending_header && !self.skip_blank_lines()? {
            return Ok(None);
        }
        self.record_no += 1;
        if self.line.first() != Some(&b'>') {
            let c = self.line[0] as char;
            return Err(self.err(None, FastxErrorKind::UnknownFormat(c)));
        }
        let id = self.header_id(None)?;
        let header_line = self.line_no;
        let mut codes = Vec::with_capacity(512);
        self.pending_header = false;
        loop {
            if !self.next_line(Some(&id))? {
                self.done = true;
                break;
            }
            if self.line.first() == Some(&b'>') {
                self.pending_header = true;
                break;
            }
            self.push_bases(&mut codes, &id)?;
        }
        if codes.is_empty() {
            let mut e = self.err(Some(&id), FastxErrorKind::EmptyRecord);
            e.line = header_line;
            return Err(e);
        }
        Ok(Some(Record {
            id,
            seq: DnaSeq::from_codes(codes).expect("codes come from base_of"),
        }))
    }

    fn next_fastq(&mut self) -> Result<Option<Record>, FastxError> {
        if !self.pending_header && !self.skip_blank_lines()? {
            return Ok(None);
        }
        self.pending_header = false;
        self.record_no += 1;
        if self.line.first() != Some(&b'@') {
            let c = self.line[0] as char;
            return Err(self.err(
                None,
                FastxErrorKind::BadFastq(if c == '>' {
                    "FASTA header in a FASTQ file"
                } else {
                    "header does not start with '@'"
                }),
            ));
        }
        let id = self.header_id(None)?;
        if !self.next_line(Some(&id))? {
            return Err(self.err(Some(&id), FastxErrorKind::BadFastq("missing sequence line")));
        }
        let mut codes = Vec::with_capacity(self.line.len());
        self.push_bases(&mut codes, &id)?;
        let seq_len = self.line.len();
        if codes.is_empty() {
            return Err(self.err(Some(&id), FastxErrorKind::EmptyRecord));
        }
        if !self.next_line(Some(&id))? || self.line.first() != Some(&b'+') {
            return Err(self.err(Some(&id), FastxErrorKind::BadFastq("missing '+' line")));
        }
        if !self.next_line(Some(&id))? {
            return Err(self.err(Some(&id), FastxErrorKind::BadFastq("missing quality line")));
        }
        if self.line.len() != seq_len {
            return Err(self.err(
                Some(&id),
                FastxErrorKind::QualityLength {
                    seq: seq_len,
                    qual: self.line.len(),
                },
            ));
        }
        Ok(Some(Record {
            id,
            seq: DnaSeq::from_codes(codes).expect("codes come from base_of"),
        }))
    }
}

impl<R: BufRead> Iterator for FastxReader<R> {
    type Item = Result<Record, FastxError>;
    fn next(&mut self) -> Option<Self::Item> {
        match self.next_record() {
            Ok(Some(r)) => Some(Ok(r)),
            Ok(None) => None,
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads all records of bytes through the same decompression as a file.
    fn read_stream(bytes: Vec<u8>) -> Result<Vec<Record>, FastxError> {
        let r = decompressing(Box::new(io::Cursor::new(bytes))).map_err(|e| FastxError {
            file: "t".into(),
            record: 0,
            id: None,
            line: 0,
            kind: FastxErrorKind::Io(e.to_string()),
        })?;
        FastxReader::new(r, "t").collect()
    }

    #[test]
    fn a_200_mb_chromosome_on_one_line_is_read_and_a_long_header_is_refused() {
        // Long sequences stay legal: 200 Mb on one line (about 400 MB while read).
        let n = 200_000_000;
        let mut text = Vec::with_capacity(n + 16);
        text.extend_from_slice(b">chr1 one line\n");
        text.extend((0..n).map(|i| b"ACGT"[(i * 7 + i / 13) % 4]));
        text.push(b'\n');
        let recs = read_stream(text).unwrap();
        assert_eq!(recs.len(), 1);
        assert_eq!(recs[0].id(), "chr1");
        assert_eq!(recs[0].seq().len(), n);
        drop(recs);
        // A header over 1 MiB is an error naming the record and line, read no further.
        let mut text = b">".to_vec();
        text.extend(std::iter::repeat_n(b'x', MAX_HEADER + 10));
        text.extend_from_slice(b"\nACGT\n");
        let e = read_stream(text).unwrap_err();
        assert!(matches!(e.kind, FastxErrorKind::HeaderTooLong(_)), "{e}");
        assert!(e.to_string().contains("record 1, line 1"), "{e}");
    }

    #[test]
    fn zstd_is_read_frame_after_frame_and_bzip2_xz_are_named() {
        use ruzstd::encoding::{compress_to_vec, CompressionLevel};
        let a = b">a\nACGTACGT\n>b\nGGGCCC\n".as_slice();
        let b = b">c\nTTTTAAAA\n".as_slice();
        // Two frames, as `pzstd` or `cat x.zst y.zst` write them.
        let mut z = compress_to_vec(a, CompressionLevel::Fastest);
        z.extend(compress_to_vec(b, CompressionLevel::Fastest));
        let ids: Vec<String> = read_stream(z.clone())
            .unwrap()
            .iter()
            .map(|r| r.id().to_string())
            .collect();
        assert_eq!(ids, ["a", "b", "c"]);
        // A cut-off stream is an error, not a silent end.
        z.truncate(z.len() - 4);
        assert!(read_stream(z).is_err());
        for (magic, name) in [
            (&b"BZh91AY&SY"[..], "bzip2"),
            (&[0xfd, b'7', b'z', b'X', b'Z', 0, 0][..], "xz"),
        ] {
            let e = read_stream(magic.to_vec()).unwrap_err().to_string();
            assert!(
                e.contains(&format!("{name}-compressed input is not read")),
                "{e}"
            );
            assert!(e.starts_with("t: "), "{e}");
        }
    }

    #[test]
    fn endless_or_binary_input_is_refused_in_bounded_memory() {
        // /dev/zero: refused on its first byte, nothing buffered.
        let zero = BufReader::new(io::repeat(0));
        let e = FastxReader::new(zero, "/dev/zero")
            .next()
            .unwrap()
            .unwrap_err();
        assert_eq!(e.kind, FastxErrorKind::UnknownFormat('\0'));
        assert_eq!(
            e.to_string(),
            "/dev/zero: record 1, line 1: not FASTA or FASTQ: expected '>' or '@' but found '\\0'"
        );
        // An endless header line: refused after MAX_HEADER bytes.
        let endless = BufReader::new(io::Cursor::new(b">".to_vec()).chain(io::repeat(b'A')));
        let e = FastxReader::new(endless, "h.fa")
            .next()
            .unwrap()
            .unwrap_err();
        assert_eq!(e.kind, FastxErrorKind::HeaderTooLong(MAX_HEADER));
        // A long sequence on one line is fine.
        let mut long = b">chr\n".to_vec();
        long.extend(std::iter::repeat_n(b'A', 3 << 20));
        long.push(b'\n');
        let recs = read_all(&long).unwrap();
        assert_eq!(recs[0].seq().len(), 3 << 20);
    }

    #[test]
    fn a_missing_file_says_cannot_open_it() {
        let e = FastxReader::open("/nonexistent/dir/reads.fa")
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.starts_with("cannot open /nonexistent/dir/reads.fa: "),
            "{e}"
        );
        assert!(!e.contains("record 0"), "{e}");
    }

    fn read_all(text: &[u8]) -> Result<Vec<Record>, FastxError> {
        FastxReader::new(text, "t.fa").collect()
    }

    #[test]
    fn fasta_multiline_crlf_lowercase() {
        let r = read_all(b">a desc\r\nacg\r\nTN\r\n\r\n>b\nGGRY\n").unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].id(), "a");
        assert_eq!(r[0].seq().to_ascii(), "ACGTN");
        assert_eq!(r[1].seq().to_ascii(), "GGNN");
    }

    #[test]
    fn fastq_records_and_quality_mismatch() {
        let r = read_all(b"@r1\nACGT\n+\nIIII\n@r2\nGG\n+r2\nII\n").unwrap();
        assert_eq!(r.len(), 2);
        let e = read_all(b"@r1\nACGT\n+\nIIII\n@r2\nGGA\n+\nII\n").unwrap_err();
        assert_eq!(e.record, 2);
        assert_eq!(e.id.as_deref(), Some("r2"));
        assert_eq!(e.line, 8);
        assert_eq!(e.kind, FastxErrorKind::QualityLength { seq: 3, qual: 2 });
    }

    #[test]
    fn invalid_base_names_line_and_column() {
        let e = read_all(b">a\nACGT\n>b\nAC\nGX\n").unwrap_err();
        assert_eq!((e.record, e.line), (2, 5));
        assert_eq!(
            e.kind,
            FastxErrorKind::InvalidBase {
                column: 2,
                byte: 'X'
            }
        );
        assert!(e.to_string().contains("t.fa: record 2 (b), line 5"), "{e}");
    }

    #[test]
    fn empty_record_and_unknown_format() {
        let e = read_all(b">a\n>b\nAC\n").unwrap_err();
        assert_eq!((e.record, e.kind.clone()), (1, FastxErrorKind::EmptyRecord));
        let e = read_all(b"hello\n").unwrap_err();
        assert_eq!(e.kind, FastxErrorKind::UnknownFormat('h'));
        assert!(read_all(b"").unwrap().is_empty());
        let e = read_all(b"@r1\nACGT\n+\n").unwrap_err();
        assert_eq!(e.kind, FastxErrorKind::BadFastq("missing quality line"));
    }
}
