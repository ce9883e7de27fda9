//! Where `cdspred predict` writes: standard output, or `-o FILE` staged in a temporary
//! file beside FILE and renamed over it only when the run succeeds, so a failed run
//! never truncates or half-writes an earlier result. A name ending in `.gz` is written
//! gzip-compressed. The rows a failed run had written are kept in `FILE.partial`.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// An output being written.
pub struct Sink {
    writer: Writer,
    /// The temporary file and the target (`None` for standard output).
    staged: Option<(PathBuf, PathBuf)>,
}

enum Writer {
    Stdout(BufWriter<io::Stdout>),
    Plain(BufWriter<File>),
    Gzip(flate2::write::GzEncoder<BufWriter<File>>),
}

impl Sink {
    /// Standard output, or a staged file for `path`.
    pub fn open(path: Option<&Path>) -> Result<Sink> {
        let Some(target) = path else {
            return Ok(Sink {
                writer: Writer::Stdout(BufWriter::new(io::stdout())),
                staged: None,
            });
        };
        let name = target
            .file_name()
            .with_context(|| format!("cannot write {}: not a file name", target.display()))?;
        let tmp = target.with_file_name(format!(
            ".{}.cdspred-{}.tmp",
            name.to_string_lossy(),
            std::process::id()
        ));
        let file =
            File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
        let file = BufWriter::new(file);
        let writer = if target.extension().is_some_and(|e| e == "gz") {
            Writer::Gzip(flate2::write::GzEncoder::new(
                file,
                flate2::Compression::default(),
            ))
        } else {
            Writer::Plain(file)
        };
        Ok(Sink {
            writer,
            staged: Some((tmp, target.to_path_buf())),
        })
    }

    /// Whether this is standard output.
    pub fn is_stdout(&self) -> bool {
        self.staged.is_none()
    }

    /// The output's name for messages.
    pub fn name(&self) -> String {
        match &self.staged {
            Some((_, target)) => target.display().to_string(),
            None => "<stdout>".into(),
        }
    }

    /// Finishes a successful run: the staged file replaces the target.
    pub fn commit(self) -> Result<()> {
        let name = self.name();
        let staged = self.staged.clone();
        self.finish().with_context(|| format!("writing {name}"))?;
        if let Some((tmp, target)) = staged {
            std::fs::rename(&tmp, &target).with_context(|| {
                format!("cannot rename {} to {}", tmp.display(), target.display())
            })?;
        }
        Ok(())
    }

    /// Ends a failed run: the target is left as it was; what was written is kept in
    /// `TARGET.partial` (returned), as complete lines.
    pub fn abandon(self) -> Option<PathBuf> {
        let staged = self.staged.clone();
        let _ = self.finish();
        let (tmp, target) = staged?;
        let mut partial = target.into_os_string();
        partial.push(".partial");
        let partial = PathBuf::from(partial);
        std::fs::rename(&tmp, &partial).ok().map(|_| partial)
    }

    fn finish(self) -> io::Result<()> {
        match self.writer {
            Writer::Stdout(mut w) => w.flush(),
            Writer::Plain(w) => w.into_inner().map_err(|e| e.into_error())?.sync_all(),
            Writer::Gzip(w) => w
                .finish()?
                .into_inner()
                .map_err(|e| e.into_error())?
                .sync_all(),
        }
    }
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.writer {
            Writer::Stdout(w) => w.write(buf),
            Writer::Plain(w) => w.write(buf),
            Writer::Gzip(w) => w.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.writer {
            Writer::Stdout(w) => w.flush(),
            Writer::Plain(w) => w.flush(),
            Writer::Gzip(w) => w.flush(),
        }
    }
}
