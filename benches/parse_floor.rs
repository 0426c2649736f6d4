//! The parse floor: reads the CSV files of a workspace with the csv crate, one reused
//! `ByteRecord` (no allocation per cell), and does nothing else: no decoding, no matching,
//! no numbers. A cs-score run cannot read the same files faster than this.
//!
//! ```sh
//! cargo bench --bench parse_floor -- WORKSPACE [PERIOD]
//! ```
//!
//! With PERIOD (`2009`, `2009Q2`) only the files cs-score reads for that period: the roster,
//! events, city awards, vetoes, and the points and KPI files of its months and quarters.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let (root, period) = match args.as_slice() {
        // A plain `cargo bench` runs every bench target without arguments: nothing to read.
        [] => {
            eprintln!("parse_floor: usage: parse_floor WORKSPACE [PERIOD] (run by benches/compare.sh)");
            return ExitCode::SUCCESS;
        }
        [root] => (PathBuf::from(root), None),
        [root, period] => (PathBuf::from(root), Some(period.as_str())),
        _ => {
            eprintln!("usage: parse_floor WORKSPACE [PERIOD]");
            return ExitCode::from(2);
        }
    };
    let wanted = match period.map(stems).transpose() {
        Ok(w) => w,
        Err(e) => {
            eprintln!("parse_floor: {e}");
            return ExitCode::from(2);
        }
    };
    let data = root.join("data");
    let mut files = Vec::new();
    for name in ["roster.csv", "events.csv", "city-awards.csv", "vetoes.csv"] {
        files.push(data.join(name));
    }
    for folder in ["points", "kpi"] {
        let Ok(entries) = std::fs::read_dir(data.join(folder)) else { continue };
        for path in entries.flatten().map(|e| e.path()) {
            let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_string();
            if path.extension().is_some_and(|e| e == "csv") && wanted.as_ref().is_none_or(|w| w.contains(&stem)) {
                files.push(path);
            }
        }
    }
    let (mut read, mut records, mut fields, mut bytes) = (0, 0u64, 0u64, 0u64);
    let mut record = csv::ByteRecord::new();
    for path in files.iter().filter(|p| p.is_file()) {
        match scan(path, &mut record) {
            Ok((r, f, b)) => {
                read += 1;
                records += r;
                fields += f;
                bytes += b;
            }
            Err(e) => {
                eprintln!("parse_floor: {}: {e}", path.display());
                return ExitCode::FAILURE;
            }
        }
    }
    println!("{read} files, {records} records, {fields} fields, {bytes} bytes");
    ExitCode::SUCCESS
}

/// Reads one file to the end; returns (records, fields, bytes).
fn scan(path: &Path, record: &mut csv::ByteRecord) -> csv::Result<(u64, u64, u64)> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_path(path)?;
    let (mut records, mut fields) = (0, 0);
    while reader.read_byte_record(record)? {
        records += 1;
        fields += record.len() as u64;
    }
    Ok((records, fields, reader.position().byte()))
}

/// The file stems (`2009-05`, `2009Q2`) a period's report reads.
fn stems(period: &str) -> Result<Vec<String>, String> {
    let bad = || format!("{period:?} is not a year YYYY or a quarter YYYYQn");
    let (year, quarters) = match period.split_once(['Q', 'q']) {
        Some((y, q)) => (y, vec![q.parse::<u32>().ok().filter(|q| (1..=4).contains(q)).ok_or_else(bad)?]),
        None => (period, vec![1, 2, 3, 4]),
    };
    let year: u32 = year.parse().ok().filter(|_| year.len() == 4).ok_or_else(bad)?;
    let mut out = Vec::new();
    for q in quarters {
        out.push(format!("{year}Q{q}"));
        out.extend((q * 3 - 2..=q * 3).map(|m| format!("{year}-{m:02}")));
    }
    Ok(out)
}
