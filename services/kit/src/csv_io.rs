//! CSV files in and out of a service: an upload arriving as a client stream of byte chunks,
//! parsed on a blocking thread into numbered rows of named fields, and an export written as a
//! server stream of CSV chunks.
//!
//! An import RPC's first message carries its options (or nothing, for the defaults); every
//! later message carries the next bytes of the file. [`first_message`] takes the options,
//! [`Upload::start`] parses the rest. The service validates each [`Row`] as its create RPC
//! would, keeps the good ones and reports each bad one by row, column and reason.

use std::collections::HashMap;
use std::io::Read;

use tokio::sync::mpsc;
use tokio_stream::StreamExt;

use crate::errors::Violations;
use crate::{Error, Result};

/// One data row: its 1-based number (the header is row 0) and its values by import field.
#[derive(Debug, Clone)]
pub struct Row {
    pub number: i64,
    pub values: HashMap<&'static str, String>,
    /// Set when the row itself is malformed (wrong column count, bad UTF-8).
    pub problem: Option<String>,
}

impl Row {
    /// The trimmed value of `field`, empty when the file has no such column.
    pub fn get(&self, field: &str) -> &str {
        self.values.get(field).map(String::as_str).unwrap_or("")
    }
}

/// What the parser hands over, in file order.
#[derive(Debug)]
pub enum Parsed {
    /// Import field → the CSV header naming it, once, before any rows.
    Header(HashMap<&'static str, String>),
    Rows(Vec<Row>),
    /// The file cannot be read as CSV at all.
    Fatal(String),
}

/// The first message of an upload stream (what `field` names: an import's options, a
/// document's description), or a REQUIRED violation on `field` when the stream is empty.
pub async fn first_message<M>(stream: &mut tonic::Streaming<M>, field: &str) -> Result<M> {
    stream
        .next()
        .await
        .ok_or_else(|| Error::required(field))?
        .map_err(|e| Error::invalid(field, "STREAM_ERROR", e.message().to_string()))
}

/// Adds an UNKNOWN_FIELD violation on `{field}[header]` for each mapping target that is not
/// one of `fields`.
pub fn check_mapping(field: &str, mapping: &HashMap<String, String>, fields: &[&str], v: &mut Violations) {
    let mut headers: Vec<&String> = mapping.keys().collect();
    headers.sort();
    for header in headers {
        let target = &mapping[header];
        if !fields.contains(&target.as_str()) {
            v.add(
                format!("{field}[{header}]"),
                "UNKNOWN_FIELD",
                format!("{target} is not an import field; use one of {}", fields.join(", ")),
            );
        }
    }
}

/// A CSV upload being parsed: rows come out in batches while the stream is still arriving.
pub struct Upload {
    rows: mpsc::Receiver<Parsed>,
    parser: tokio::task::JoinHandle<()>,
    feeder: tokio::task::JoinHandle<Result<()>>,
}

impl std::fmt::Debug for Upload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upload").finish_non_exhaustive()
    }
}

impl Upload {
    /// Starts parsing the rest of `stream`. Headers are matched to `fields` through `mapping`
    /// (CSV header → field; empty: headers are field names); columns mapping to nothing are
    /// ignored. `chunk_of` takes the bytes out of one message, or `None` for a message that
    /// is not a chunk (a second options message), which fails the upload. Rows come in
    /// batches of `batch`.
    pub fn start<M: Send + 'static>(
        fields: &'static [&'static str],
        mapping: HashMap<String, String>,
        batch: usize,
        mut stream: tonic::Streaming<M>,
        chunk_of: fn(M) -> Option<Vec<u8>>,
    ) -> Upload {
        let (chunk_tx, chunk_rx) = std::sync::mpsc::sync_channel::<Chunk>(16);
        let (row_tx, rows) = mpsc::channel::<Parsed>(4);
        let parser = tokio::task::spawn_blocking(move || {
            let reader = ChunkReader {
                rx: chunk_rx,
                current: Vec::new(),
                pos: 0,
                ended: false,
            };
            parse(reader, fields, &mapping, batch.max(1), &row_tx);
        });
        let feeder = tokio::spawn(async move {
            while let Some(msg) = stream.next().await {
                let msg =
                    msg.map_err(|status| Error::invalid("csv_chunk", "STREAM_ERROR", status.message().to_string()))?;
                let Some(bytes) = chunk_of(msg) else {
                    return Err(Error::invalid(
                        "options",
                        "UNEXPECTED_OPTIONS",
                        "only the first message may carry options",
                    ));
                };
                let tx = chunk_tx.clone();
                // The parser stopped reading (it gave up on the file): nothing more to feed.
                if tokio::task::spawn_blocking(move || tx.send(Chunk::Bytes(bytes)))
                    .await
                    .map_or(true, |r| r.is_err())
                {
                    return Ok(());
                }
            }
            // Only a stream that ended cleanly is the end of the file; without this mark the
            // parser takes the file as cut off (the `?` above returns without it).
            let _ = tokio::task::spawn_blocking(move || chunk_tx.send(Chunk::End)).await;
            Ok(())
        });
        Upload { rows, parser, feeder }
    }

    /// The next header, batch or fatal error; `None` once the file is read.
    pub async fn next(&mut self) -> Option<Parsed> {
        self.rows.recv().await
    }

    /// The error for a [`Parsed::Fatal`] `message`: the stream's own failure when it broke off
    /// (or carried a second options message), else MALFORMED_CSV on `csv_chunk`.
    pub async fn fatal(self, message: String) -> Error {
        drop(self.rows);
        let mut feeder = self.feeder;
        // A stream still sending is not waited for long: the file is refused either way.
        match tokio::time::timeout(std::time::Duration::from_secs(1), &mut feeder).await {
            Ok(Ok(Err(e))) => e,
            Ok(_) => Error::invalid("csv_chunk", "MALFORMED_CSV", message),
            Err(_) => {
                feeder.abort();
                Error::invalid("csv_chunk", "MALFORMED_CSV", message)
            }
        }
    }

    /// Waits for the stream and the parser to end; a broken stream or a second options
    /// message is the error.
    pub async fn finish(self) -> Result<()> {
        drop(self.rows);
        let fed = self
            .feeder
            .await
            .map_err(|e| Error::Internal(format!("import feeder: {e}")))?;
        self.parser
            .await
            .map_err(|e| Error::Internal(format!("import parser: {e}")))?;
        fed
    }
}

/// The MALFORMED_CSV error of a file without even a header row.
pub fn empty_file() -> Error {
    Error::invalid(
        "csv_chunk",
        "MALFORMED_CSV",
        "the file is empty; the first row must be the header",
    )
}

/// What the feeder hands the parser.
enum Chunk {
    Bytes(Vec<u8>),
    /// The stream ended cleanly: the end of the file.
    End,
}

/// A `Read` over byte chunks arriving from the gRPC stream. The file ends at [`Chunk::End`];
/// a stream that breaks off before it is a read error, so a cut-off upload never passes for a
/// shorter file (its last, partly received rows are not imported).
struct ChunkReader {
    rx: std::sync::mpsc::Receiver<Chunk>,
    current: Vec<u8>,
    pos: usize,
    ended: bool,
}

impl Read for ChunkReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.pos >= self.current.len() {
            if self.ended {
                return Ok(0);
            }
            match self.rx.recv() {
                Ok(Chunk::Bytes(chunk)) => {
                    self.current = chunk;
                    self.pos = 0;
                }
                Ok(Chunk::End) => self.ended = true,
                Err(_) => {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "the upload broke off before the end of the file",
                    ));
                }
            }
        }
        let n = buf.len().min(self.current.len() - self.pos);
        buf[..n].copy_from_slice(&self.current[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Parses the CSV (blocking), mapping headers to `fields`.
fn parse(
    reader: ChunkReader,
    fields: &'static [&'static str],
    mapping: &HashMap<String, String>,
    batch_size: usize,
    tx: &mpsc::Sender<Parsed>,
) {
    let mut csv = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(false)
        .from_reader(reader);
    let mut records = csv.byte_records();
    let header = match records.next() {
        None => {
            let _ = tx.blocking_send(Parsed::Fatal(
                "the file is empty; the first row must be the header".into(),
            ));
            return;
        }
        Some(Err(e)) if matches!(e.kind(), csv::ErrorKind::Io(_)) => {
            let _ = tx.blocking_send(Parsed::Fatal(format!("the file was not received whole: {e}")));
            return;
        }
        Some(Err(e)) => {
            let _ = tx.blocking_send(Parsed::Fatal(format!("cannot read the header row: {e}")));
            return;
        }
        Some(Ok(h)) => h,
    };
    let mut columns: Vec<Option<&'static str>> = Vec::new();
    let mut names: HashMap<&'static str, String> = HashMap::new();
    for (i, raw) in header.iter().enumerate() {
        let mut h = String::from_utf8_lossy(raw).trim().to_string();
        if i == 0 {
            h = h.trim_start_matches('\u{feff}').to_string();
        }
        let target = if mapping.is_empty() {
            h.clone()
        } else {
            mapping.get(&h).cloned().unwrap_or_default()
        };
        let field = fields.iter().copied().find(|f| *f == target);
        if let Some(f) = field {
            names.insert(f, h);
        }
        columns.push(field);
    }
    if tx.blocking_send(Parsed::Header(names)).is_err() {
        return;
    }
    let mut batch = Vec::with_capacity(batch_size);
    for (index, record) in records.enumerate() {
        let number = i64::try_from(index).unwrap_or(i64::MAX - 1) + 1;
        let row = match record {
            // The upload broke off: the rows not yet handed over are dropped with it.
            Err(e) if matches!(e.kind(), csv::ErrorKind::Io(_)) => {
                let _ = tx.blocking_send(Parsed::Fatal(format!("the file was not received whole: {e}")));
                return;
            }
            Err(e) => Row {
                number,
                values: HashMap::new(),
                problem: Some(format!("cannot be read as CSV: {e}")),
            },
            Ok(r) => {
                if r.iter().all(|c| c.iter().all(u8::is_ascii_whitespace)) {
                    // Blank lines are skipped silently, as a spreadsheet user expects.
                    continue;
                }
                let mut values = HashMap::new();
                let mut problem = None;
                if r.len() != columns.len() {
                    problem = Some(format!("has {} columns but the header has {}", r.len(), columns.len()));
                }
                for (i, raw) in r.iter().enumerate() {
                    let Some(Some(field)) = columns.get(i) else { continue };
                    match std::str::from_utf8(raw) {
                        Ok(s) => {
                            values.insert(*field, s.trim().to_string());
                        }
                        Err(_) => {
                            problem = Some(format!("column {} is not valid UTF-8 (save the file as UTF-8)", i + 1))
                        }
                    }
                }
                Row {
                    number,
                    values,
                    problem,
                }
            }
        };
        batch.push(row);
        if batch.len() == batch_size && tx.blocking_send(Parsed::Rows(std::mem::take(&mut batch))).is_err() {
            return;
        }
    }
    if !batch.is_empty() {
        let _ = tx.blocking_send(Parsed::Rows(batch));
    }
}

/// An export written in CSV chunks of about `CHUNK` bytes, header first.
#[derive(Debug)]
pub struct ChunkWriter {
    writer: csv::Writer<Vec<u8>>,
}

/// About how many bytes an export chunk holds.
pub const CHUNK: usize = 64 * 1024;

impl ChunkWriter {
    /// A writer that has written `header`.
    pub fn new<I, T>(header: I) -> Result<ChunkWriter>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<[u8]>,
    {
        let mut w = ChunkWriter {
            writer: csv::Writer::from_writer(Vec::with_capacity(CHUNK)),
        };
        w.row(header)?;
        Ok(w)
    }

    /// Writes one record.
    pub fn row<I, T>(&mut self, record: I) -> Result<()>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<[u8]>,
    {
        self.writer
            .write_record(record)
            .map_err(|e| Error::Internal(format!("csv export: {e}")))
    }

    /// The bytes written since the last take (possibly none).
    pub fn take(&mut self) -> Result<Vec<u8>> {
        let writer = std::mem::replace(&mut self.writer, csv::Writer::from_writer(Vec::with_capacity(CHUNK)));
        writer
            .into_inner()
            .map_err(|e| Error::Internal(format!("csv export: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapping_to_an_unknown_field_names_the_header() {
        let mut v = Violations::new();
        let mapping = HashMap::from([
            ("Firma".to_string(), "company_name".to_string()),
            ("Farbe".to_string(), "colour".to_string()),
        ]);
        check_mapping("options.column_mapping", &mapping, &["company_name"], &mut v);
        let Err(Error::InvalidArgument(list)) = v.finish() else {
            panic!("expected a violation");
        };
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].field, "options.column_mapping[Farbe]");
    }

    #[test]
    fn parsing_maps_headers_numbers_rows_and_flags_bad_ones() {
        const FIELDS: &[&str] = &["name", "city"];
        let (chunk_tx, chunk_rx) = std::sync::mpsc::sync_channel(4);
        let (tx, mut rx) = mpsc::channel(16);
        chunk_tx
            .send(Chunk::Bytes(b"\xef\xbb\xbfName,Town,Other\nAcme, Berlin ,x\n".to_vec()))
            .unwrap();
        chunk_tx
            .send(Chunk::Bytes(b"\n,,\nBeta,Rome\nGamma,Oslo,y\n".to_vec()))
            .unwrap();
        chunk_tx.send(Chunk::End).unwrap();
        drop(chunk_tx);
        let reader = ChunkReader {
            rx: chunk_rx,
            current: Vec::new(),
            pos: 0,
            ended: false,
        };
        let mapping = HashMap::from([
            ("Name".to_string(), "name".to_string()),
            ("Town".to_string(), "city".to_string()),
        ]);
        parse(reader, FIELDS, &mapping, 2, &tx);
        drop(tx);
        let Some(Parsed::Header(h)) = rx.blocking_recv() else {
            panic!("header first")
        };
        assert_eq!(h.get("city").map(String::as_str), Some("Town"));
        let mut rows = Vec::new();
        while let Some(p) = rx.blocking_recv() {
            let Parsed::Rows(batch) = p else { panic!("rows") };
            assert!(batch.len() <= 2);
            rows.extend(batch);
        }
        // A row of empty cells is skipped but still counted (the csv reader itself drops empty lines).
        let numbers: Vec<i64> = rows.iter().map(|r| r.number).collect();
        assert_eq!(numbers, [1, 3, 4]);
        assert_eq!(rows[0].get("city"), "Berlin");
        assert!(rows[0].problem.is_none());
        assert!(rows[1].problem.as_deref().unwrap_or("").contains("2 columns"));
        assert_eq!(rows[2].get("name"), "Gamma");
    }

    #[test]
    fn a_file_cut_off_before_its_end_hands_over_only_whole_batches() {
        const FIELDS: &[&str] = &["name"];
        let (chunk_tx, chunk_rx) = std::sync::mpsc::sync_channel(4);
        let (tx, mut rx) = mpsc::channel(16);
        // Two whole batches of two, then half a batch ending in half a row, and no end mark.
        chunk_tx
            .send(Chunk::Bytes(b"name\nA\nB\nC\nD\nE\nFirst half of a na".to_vec()))
            .unwrap();
        drop(chunk_tx);
        let reader = ChunkReader {
            rx: chunk_rx,
            current: Vec::new(),
            pos: 0,
            ended: false,
        };
        parse(reader, FIELDS, &HashMap::new(), 2, &tx);
        drop(tx);
        let mut names = Vec::new();
        let mut fatal = None;
        while let Some(p) = rx.blocking_recv() {
            match p {
                Parsed::Header(_) => {}
                Parsed::Rows(batch) => names.extend(batch.iter().map(|r| r.get("name").to_string())),
                Parsed::Fatal(message) => fatal = Some(message),
            }
        }
        assert_eq!(names, ["A", "B", "C", "D"], "E and the half row never pass for rows");
        assert!(fatal.unwrap_or_default().contains("not received whole"));
    }

    #[test]
    fn the_writer_hands_out_what_it_wrote_once() {
        let mut w = ChunkWriter::new(["a", "b"]).unwrap();
        w.row(["1", "x,y"]).unwrap();
        assert_eq!(w.take().unwrap(), b"a,b\n1,\"x,y\"\n");
        assert!(w.take().unwrap().is_empty());
    }
}
