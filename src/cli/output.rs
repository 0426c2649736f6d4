//! Where output goes: standard output (a closed pipe is not an error), or a file written
//! atomically — a temporary file in the same folder, renamed into place only when complete.

use crate::error::{Error, Result};
use std::io::Write;
use std::path::Path;

/// Writes bytes to standard output; a reader that went away (`| head`) ends us quietly.
pub fn to_stdout(bytes: &[u8]) -> Result<()> {
    stream_to_stdout(|out| out.write_all(bytes))
}

/// Writes to standard output through `write`, buffered; a reader that went away ends us
/// quietly.
pub fn stream_to_stdout(write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> Result<()> {
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    match write(&mut out).and_then(|_| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Error::one("standard output", format!("cannot be written: {e}"))),
    }
}

/// Writes a whole file or nothing: an existing file is replaced only by a complete one.
pub fn to_file(path: &Path, bytes: &[u8]) -> Result<()> {
    stream_to_file(path, |out| out.write_all(bytes))
}

/// `to_file`, with the content written by `write` (buffered) rather than held whole first.
pub fn stream_to_file(path: &Path, write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> Result<()> {
    let display = path.display().to_string();
    let fail = |e: std::io::Error| {
        let why = match e.kind() {
            std::io::ErrorKind::NotFound => "its folder does not exist: create it first".to_string(),
            std::io::ErrorKind::IsADirectory => "is a folder: name a file".to_string(),
            _ => crate::error::io_text(&e),
        };
        Error::one(display.clone(), format!("cannot be written: {why}"))
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let name = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    let temp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = std::fs::File::create(&temp)
        .and_then(|f| {
            let mut out = std::io::BufWriter::with_capacity(1 << 16, f);
            write(&mut out)?;
            out.into_inner().map_err(|e| e.into_error())?.sync_all()
        })
        .and_then(|_| std::fs::rename(&temp, path));
    if let Err(e) = result {
        let _ = std::fs::remove_file(&temp);
        return Err(fail(e));
    }
    Ok(())
}
