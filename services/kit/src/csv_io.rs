//! CSV files in and out of a service: an upload arriving as a client stream of byte chunks,
//! parsed on a blocking thread into numbered rows of named fields, and an export written as a
//! server stream of CSV chunks.
//!
//! An import RPC's first message carries its options (or nothing, for the defaults); every
//! later message carries the next bytes of the file. [`first_message`] takes the options,
//! [`Upload::start`] parses the rest. The service validates each [`Row`] as its create RPC
//! would, keeps the good ones and reports each bad one by row, column and reason. What the
//! first message declares is coming (size, SHA-256) is checked by [`Declared`], for CSV
//! imports and file uploads alike: a stream can end cleanly although its sender went away.

use std::collections::HashMap;
use std::io::Read;

use crm_proto::common::UploadDeclaration;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;
use tokio_stream::StreamExt;

use crate::errors::Violations;
use crate::errors::reason;
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
    /// The headers that map to no field (their values are not imported), in file order; right
    /// after the header, when there are any.
    Ignored(Vec<String>),
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

/// What an upload's first message declares is coming (`crm.common.v1.UploadDeclaration`), and
/// the check of what arrived against it. A stream can end cleanly although its sender went
/// away midway, so only a declared size and digest tell a whole file from one cut off.
#[derive(Debug, Clone)]
pub struct Declared {
    /// The declaration's field path, e.g. `options.declared`.
    field: String,
    size: Option<u64>,
    sha256: Option<[u8; 32]>,
    received: u64,
    digest: Sha256,
}

impl Declared {
    /// Reads the declaration at `field` (unset: nothing declared, nothing checked); a negative
    /// size or a digest that is not 64 hex digits is a violation.
    pub fn parse(field: &str, declaration: Option<&UploadDeclaration>, v: &mut Violations) -> Declared {
        let mut declared = Declared {
            field: field.to_string(),
            size: None,
            sha256: None,
            received: 0,
            digest: Sha256::new(),
        };
        let Some(d) = declaration else { return declared };
        if let Some(size) = d.size_bytes {
            match u64::try_from(size) {
                Ok(size) => declared.size = Some(size),
                Err(_) => v.add(
                    format!("{field}.size_bytes"),
                    reason::OUT_OF_RANGE,
                    "must not be negative",
                ),
            }
        }
        let hex = d.sha256.trim();
        if !hex.is_empty() {
            match parse_sha256(hex) {
                Some(digest) => declared.sha256 = Some(digest),
                None => v.add(
                    format!("{field}.sha256"),
                    reason::MALFORMED,
                    "must be the SHA-256 of the file as 64 hex digits",
                ),
            }
        }
        declared
    }

    /// The declared size, if any.
    pub fn size(&self) -> Option<u64> {
        self.size
    }

    /// Counts the next bytes; more than the declared size fails at once.
    pub fn receive(&mut self, bytes: &[u8]) -> Result<()> {
        self.received += bytes.len() as u64;
        if let Some(size) = self.size
            && self.received > size
        {
            return Err(self.size_mismatch(format!(
                "{size} bytes were declared but more arrived; nothing of the extra is kept"
            )));
        }
        if self.sha256.is_some() {
            self.digest.update(bytes);
        }
        Ok(())
    }

    /// At the stream's clean end: Ok when what arrived is what was declared.
    pub fn finish(self) -> Result<()> {
        if let Some(size) = self.size
            && self.received != size
        {
            let received = self.received;
            return Err(self.size_mismatch(format!(
                "{size} bytes were declared but the stream ended after {received}: the upload was cut off"
            )));
        }
        if let Some(expected) = self.sha256 {
            let got: [u8; 32] = self.digest.finalize().into();
            if got != expected {
                return Err(Error::invalid(
                    format!("{}.sha256", self.field),
                    "DECLARED_SHA256_MISMATCH",
                    format!(
                        "the bytes received have SHA-256 {}, not the one declared",
                        crate::idempotency::hex(&got)
                    ),
                ));
            }
        }
        Ok(())
    }

    fn size_mismatch(&self, message: String) -> Error {
        Error::invalid(format!("{}.size_bytes", self.field), "DECLARED_SIZE_MISMATCH", message)
    }
}

fn parse_sha256(hex: &str) -> Option<[u8; 32]> {
    let bytes = hex.as_bytes();
    if bytes.len() != 64 || !bytes.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in bytes.chunks(2).enumerate() {
        let text = std::str::from_utf8(pair).ok()?;
        out[i] = u8::from_str_radix(text, 16).ok()?;
    }
    Some(out)
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
                reason::UNKNOWN_FIELD,
                format!("{target} is not an import field; use one of {}", fields.join(", ")),
            );
        }
    }
}

/// A CSV upload being parsed: rows come out in batches while the stream is still arriving.
pub struct Upload {
    rows: mpsc::Receiver<Parsed>,
    /// Bytes of the file received so far.
    received: std::sync::Arc<std::sync::atomic::AtomicU64>,
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
    /// batches of `batch`. The file ends only where what arrived matches `declared`: the
    /// last batch is handed over after that check, the earlier ones as they are read.
    pub fn start<M: Send + 'static>(
        fields: &'static [&'static str],
        mapping: HashMap<String, String>,
        batch: usize,
        mut stream: tonic::Streaming<M>,
        chunk_of: fn(M) -> Option<Vec<u8>>,
        mut declared: Declared,
    ) -> Upload {
        let (chunk_tx, chunk_rx) = std::sync::mpsc::sync_channel::<Chunk>(16);
        let (row_tx, rows) = mpsc::channel::<Parsed>(4);
        let received = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let counter = received.clone();
        let parser = tokio::task::spawn_blocking(move || {
            let reader = ChunkReader {
                rx: chunk_rx,
                current: Vec::new(),
                pos: 0,
                ended: false,
            };
            parse(reader, fields, &mapping, batch, &row_tx);
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
                declared.receive(&bytes)?;
                counter.fetch_add(bytes.len() as u64, std::sync::atomic::Ordering::Relaxed);
                let tx = chunk_tx.clone();
                // The parser stopped reading (it gave up on the file): nothing more to feed.
                if tokio::task::spawn_blocking(move || tx.send(Chunk::Bytes(bytes)))
                    .await
                    .map_or(true, |r| r.is_err())
                {
                    return Ok(());
                }
            }
            // Only a stream that ended cleanly with what was declared is the end of the file;
            // without this mark the parser takes the file as cut off (the `?`s return
            // without it).
            declared.finish()?;
            let _ = tokio::task::spawn_blocking(move || chunk_tx.send(Chunk::End)).await;
            Ok(())
        });
        Upload {
            rows,
            received,
            parser,
            feeder,
        }
    }

    /// Bytes of the file received so far (for progress reports).
    pub fn received_bytes(&self) -> u64 {
        self.received.load(std::sync::atomic::Ordering::Relaxed)
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

    /// Stops reading the file (an import cancelled midway): what has not been parsed yet is
    /// dropped and the rest of the stream is not waited for.
    pub fn abandon(self) {
        drop(self.rows);
        self.feeder.abort();
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

/// Parses the CSV (blocking), mapping headers to `fields`, and hands what it reads to `tx`.
fn parse(
    reader: ChunkReader,
    fields: &'static [&'static str],
    mapping: &HashMap<String, String>,
    batch_size: usize,
    tx: &mpsc::Sender<Parsed>,
) {
    read_csv(reader, fields, mapping, batch_size, |parsed| {
        tx.blocking_send(parsed).is_ok()
    });
}

/// `reader` with its first bytes read ahead, so that the csv reader's first read holds a whole
/// UTF-8 byte order mark and more, however the bytes arrive: the csv reader drops a mark only
/// within its first read, and takes a first read of the mark alone for the end of the file.
fn read_ahead<R: Read>(mut reader: R) -> std::io::Result<std::io::Chain<std::io::Cursor<Vec<u8>>, R>> {
    let mut start = [0u8; 4];
    let mut len = 0;
    while len < start.len() {
        match reader.read(&mut start[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(std::io::Cursor::new(start[..len].to_vec()).chain(reader))
}

/// Reads a CSV file from `reader` (blocking), mapping headers to `fields` through `mapping`
/// as [`Upload::start`] does, and hands the header, then batches of at most `batch_size`
/// rows, or a fatal error to `sink`, in file order; `sink` returns false to stop the reading.
/// A read error of `reader` is a fatal error: the file was not received whole.
pub fn read_csv(
    reader: impl Read,
    fields: &[&'static str],
    mapping: &HashMap<String, String>,
    batch_size: usize,
    mut sink: impl FnMut(Parsed) -> bool,
) {
    let batch_size = batch_size.max(1);
    let reader = match read_ahead(reader) {
        Ok(reader) => reader,
        Err(e) => {
            sink(Parsed::Fatal(format!("the file was not received whole: {e}")));
            return;
        }
    };
    let mut csv = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(false)
        .from_reader(reader);
    let mut records = csv.byte_records();
    let header = match records.next() {
        None => {
            sink(Parsed::Fatal(
                "the file is empty; the first row must be the header".into(),
            ));
            return;
        }
        Some(Err(e)) if matches!(e.kind(), csv::ErrorKind::Io(_)) => {
            sink(Parsed::Fatal(format!("the file was not received whole: {e}")));
            return;
        }
        Some(Err(e)) => {
            sink(Parsed::Fatal(format!("cannot read the header row: {e}")));
            return;
        }
        Some(Ok(h)) => h,
    };
    let mut columns: Vec<Option<&'static str>> = Vec::new();
    let mut names: HashMap<&'static str, String> = HashMap::new();
    let mut ignored = Vec::new();
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
        match field {
            Some(f) => {
                names.insert(f, h);
            }
            None if !h.is_empty() => ignored.push(h),
            None => {}
        }
        columns.push(field);
    }
    if !sink(Parsed::Header(names)) {
        return;
    }
    if !ignored.is_empty() && !sink(Parsed::Ignored(ignored)) {
        return;
    }
    // A full batch is handed over only once a row after it is read, so the last batch of
    // the file always waits for its end (where a declared size and digest are checked).
    let mut batch = Vec::with_capacity(batch_size);
    for (index, record) in records.enumerate() {
        let number = i64::try_from(index).unwrap_or(i64::MAX - 1) + 1;
        let row = match record {
            // The upload broke off: the rows not yet handed over are dropped with it.
            Err(e) if matches!(e.kind(), csv::ErrorKind::Io(_)) => {
                sink(Parsed::Fatal(format!("the file was not received whole: {e}")));
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
        if batch.len() == batch_size && !sink(Parsed::Rows(std::mem::take(&mut batch))) {
            return;
        }
        batch.push(row);
    }
    if !batch.is_empty() {
        sink(Parsed::Rows(batch));
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

    /// About how many bytes are waiting for the next take (the CSV writer's own small buffer
    /// aside), so a caller can cut chunks of the size it wants.
    pub fn buffered(&self) -> usize {
        self.writer.get_ref().len()
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
        // "Other" maps to no field: named right after the header.
        let Some(Parsed::Ignored(ignored)) = rx.blocking_recv() else {
            panic!("the ignored columns next")
        };
        assert_eq!(ignored, ["Other"]);
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
    fn a_byte_order_mark_arriving_alone_is_not_the_end_of_the_file() {
        const FIELDS: &[&str] = &["name"];
        // A client that sends the mark as a chunk of its own, and one that splits it.
        let bom_alone: &[&[u8]] = &[b"\xef\xbb\xbf", b"name\nA\n"];
        let bom_split: &[&[u8]] = &[b"\xef", b"\xbb\xbfname\nA\n"];
        for chunks in [bom_alone, bom_split] {
            let (chunk_tx, chunk_rx) = std::sync::mpsc::sync_channel(4);
            let (tx, mut rx) = mpsc::channel(16);
            for chunk in chunks {
                chunk_tx.send(Chunk::Bytes(chunk.to_vec())).unwrap();
            }
            chunk_tx.send(Chunk::End).unwrap();
            let reader = ChunkReader {
                rx: chunk_rx,
                current: Vec::new(),
                pos: 0,
                ended: false,
            };
            parse(reader, FIELDS, &HashMap::new(), 2, &tx);
            let Some(Parsed::Header(h)) = rx.blocking_recv() else {
                panic!("no header after {chunks:?}")
            };
            assert_eq!(h.get("name").map(String::as_str), Some("name"));
            let Some(Parsed::Rows(rows)) = rx.blocking_recv() else {
                panic!("no rows")
            };
            assert_eq!(rows.iter().map(|r| r.get("name")).collect::<Vec<_>>(), ["A"]);
        }
    }

    #[test]
    fn a_file_read_a_byte_at_a_time_reads_as_the_whole_file() {
        struct ByteByByte<'a>(&'a [u8]);
        impl Read for ByteByByte<'_> {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                let Some((first, rest)) = self.0.split_first() else {
                    return Ok(0);
                };
                buf[0] = *first;
                self.0 = rest;
                Ok(1)
            }
        }
        const FIELDS: &[&str] = &["name"];
        let rows = |reader: &mut dyn Read| {
            let mut out = Vec::new();
            read_csv(reader, FIELDS, &HashMap::new(), 10, |p| {
                if let Parsed::Rows(rows) = p {
                    out.extend(rows.iter().map(|r| (r.number, r.get("name").to_string())));
                }
                true
            });
            out
        };
        let file = b"\xef\xbb\xbfname\nA\n\xef\xbb\xbfB\n";
        let whole = rows(&mut &file[..]);
        assert_eq!(whole, [(1, "A".to_string()), (2, "\u{feff}B".to_string())]);
        assert_eq!(rows(&mut ByteByByte(file)), whole);
        // Two marks (a file saved twice with one) and an empty line: the same however read.
        let file = b"\xef\xbb\xbf\xef\xbb\xbf\nname\nA\n";
        assert_eq!(rows(&mut ByteByByte(file)), rows(&mut &file[..]));
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
                Parsed::Header(_) | Parsed::Ignored(_) => {}
                Parsed::Rows(batch) => names.extend(batch.iter().map(|r| r.get("name").to_string())),
                Parsed::Fatal(message) => fatal = Some(message),
            }
        }
        assert_eq!(names, ["A", "B", "C", "D"], "E and the half row never pass for rows");
        assert!(fatal.unwrap_or_default().contains("not received whole"));
    }

    #[test]
    fn the_last_batch_waits_for_the_end_of_the_file_even_when_it_is_full() {
        const FIELDS: &[&str] = &["name"];
        let (chunk_tx, chunk_rx) = std::sync::mpsc::sync_channel(4);
        let (tx, mut rx) = mpsc::channel(16);
        // Two whole batches of two, every row complete, but no end mark: the stream was cut
        // off (or did not match its declaration), so the second batch is not handed over.
        chunk_tx.send(Chunk::Bytes(b"name\nA\nB\nC\nD\n".to_vec())).unwrap();
        drop(chunk_tx);
        let reader = ChunkReader {
            rx: chunk_rx,
            current: Vec::new(),
            pos: 0,
            ended: false,
        };
        parse(reader, FIELDS, &HashMap::new(), 2, &tx);
        drop(tx);
        let mut batches = Vec::new();
        let mut fatal = false;
        while let Some(p) = rx.blocking_recv() {
            match p {
                Parsed::Header(_) | Parsed::Ignored(_) => {}
                Parsed::Rows(batch) => {
                    batches.push(batch.iter().map(|r| r.get("name").to_string()).collect::<Vec<_>>())
                }
                Parsed::Fatal(_) => fatal = true,
            }
        }
        assert_eq!(batches, [["A", "B"]]);
        assert!(fatal);
    }

    fn declared(size: Option<i64>, sha256: &str) -> std::result::Result<Declared, Error> {
        let mut v = Violations::new();
        let d = Declared::parse(
            "options.declared",
            Some(&UploadDeclaration {
                size_bytes: size,
                sha256: sha256.to_string(),
            }),
            &mut v,
        );
        v.finish().map(|()| d)
    }

    fn violation(result: Result<()>) -> (String, &'static str) {
        match result {
            Err(Error::InvalidArgument(v)) => (v[0].field.clone(), v[0].reason),
            other => panic!("not a violation: {other:?}"),
        }
    }

    #[test]
    fn what_arrives_is_checked_against_what_was_declared() {
        let file = b"name\nAcme\n";
        let sha = crate::idempotency::hex(&Sha256::digest(file));
        // Exactly what was declared, in any pieces.
        let mut d = declared(Some(file.len() as i64), &sha).unwrap();
        d.receive(&file[..3]).unwrap();
        d.receive(&file[3..]).unwrap();
        d.finish().unwrap();
        // Nothing declared: nothing checked.
        let mut v = Violations::new();
        let mut d = Declared::parse("declared", None, &mut v);
        d.receive(b"anything").unwrap();
        d.finish().unwrap();
        // Cut off: the clean end comes too early.
        let mut d = declared(Some(file.len() as i64), &sha).unwrap();
        d.receive(&file[..4]).unwrap();
        assert_eq!(
            violation(d.finish()),
            ("options.declared.size_bytes".into(), "DECLARED_SIZE_MISMATCH")
        );
        // Longer than declared: refused as the extra bytes arrive.
        let mut d = declared(Some(4), "").unwrap();
        assert_eq!(
            violation(d.receive(file)),
            ("options.declared.size_bytes".into(), "DECLARED_SIZE_MISMATCH")
        );
        // The right size, other bytes.
        let mut d = declared(Some(file.len() as i64), &sha.to_uppercase()).unwrap();
        d.receive(b"name\nAcmf\n").unwrap();
        assert_eq!(
            violation(d.finish()),
            ("options.declared.sha256".into(), "DECLARED_SHA256_MISMATCH")
        );
        // Declarations that cannot be right.
        assert_eq!(
            violation(declared(Some(-1), "").map(drop)),
            ("options.declared.size_bytes".into(), "OUT_OF_RANGE")
        );
        assert_eq!(
            violation(declared(None, "abc").map(drop)),
            ("options.declared.sha256".into(), "MALFORMED")
        );
        assert_eq!(
            violation(declared(None, &format!("+{}", &sha[1..])).map(drop)),
            ("options.declared.sha256".into(), "MALFORMED")
        );
    }

    #[test]
    fn the_writer_hands_out_what_it_wrote_once() {
        let mut w = ChunkWriter::new(["a", "b"]).unwrap();
        w.row(["1", "x,y"]).unwrap();
        assert_eq!(w.take().unwrap(), b"a,b\n1,\"x,y\"\n");
        assert!(w.take().unwrap().is_empty());
    }
}
