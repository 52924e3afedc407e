//! The CSV reader of imports (`crm_kit::csv_io::read_csv`): any bytes give a header and rows
//! (each row well-formed or marked with its problem) or one fatal error; the bytes read in
//! small pieces, as they arrive from a stream, give the same; and rows written back out with
//! the export writer read back the same.

#![no_main]

use std::collections::{BTreeMap, HashMap};
use std::io::Read;

use crm_kit::csv_io::{ChunkWriter, Parsed, read_csv};
use libfuzzer_sys::fuzz_target;

const FIELDS: &[&str] = &["name", "phone", "region.city", "tags"];

#[derive(Debug, PartialEq, Eq)]
enum Item {
    Header(BTreeMap<&'static str, String>),
    Ignored(Vec<String>),
    Rows(Vec<(i64, BTreeMap<&'static str, String>, Option<String>)>),
    Fatal(String),
}

fn sorted<V: Clone>(m: &HashMap<&'static str, V>) -> BTreeMap<&'static str, V> {
    m.iter().map(|(k, v)| (*k, v.clone())).collect()
}

fn read(reader: impl Read, mapping: &HashMap<String, String>, batch: usize) -> Vec<Item> {
    let mut out = Vec::new();
    read_csv(reader, FIELDS, mapping, batch, |p| {
        out.push(match p {
            Parsed::Header(h) => Item::Header(sorted(&h)),
            Parsed::Ignored(columns) => Item::Ignored(columns),
            Parsed::Rows(rows) => Item::Rows(
                rows.iter()
                    .map(|r| (r.number, sorted(&r.values), r.problem.clone()))
                    .collect(),
            ),
            Parsed::Fatal(m) => Item::Fatal(m),
        });
        true
    });
    out
}

/// A reader handing out at most `piece` bytes per read, as chunks of a stream arrive.
struct Pieces<'a> {
    data: &'a [u8],
    piece: usize,
}

impl Read for Pieces<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.piece).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

fuzz_target!(|data: &[u8]| {
    let [options, piece, file @ ..] = data else { return };
    let batch = usize::from(options & 0x07) + 1;
    let mapping: HashMap<String, String> = if options & 0x08 != 0 {
        [
            ("Name", "name"),
            ("Tel", "phone"),
            ("Town", "region.city"),
            ("名称", "name"),
        ]
        .into_iter()
        .map(|(h, f)| (h.to_string(), f.to_string()))
        .collect()
    } else {
        HashMap::new()
    };

    let whole = read(file, &mapping, batch);
    let pieces = read(
        Pieces {
            data: file,
            piece: usize::from(*piece).max(1),
        },
        &mapping,
        batch,
    );
    assert_eq!(whole, pieces, "read in pieces of {piece}");

    // A header first (or a fatal error alone), then batches of rows numbered upwards.
    let header = match whole.first() {
        Some(Item::Header(h)) => h,
        Some(Item::Fatal(_)) => {
            assert_eq!(whole.len(), 1);
            return;
        }
        other => panic!("the first thing read is {other:?}"),
    };
    // Then the headers that map to no field, if any, each with a name.
    let mut rest = &whole[1..];
    if let Some(Item::Ignored(columns)) = rest.first() {
        assert!(
            !columns.is_empty() && columns.iter().all(|c| !c.is_empty()),
            "{columns:?}"
        );
        rest = &rest[1..];
    }
    let mut last = 0;
    let mut good = Vec::new();
    for item in rest {
        let Item::Rows(rows) = item else {
            panic!("after the header: {item:?}")
        };
        assert!(!rows.is_empty() && rows.len() <= batch, "a batch of {}", rows.len());
        for (number, values, problem) in rows {
            assert!(*number > last, "row {number} after {last}");
            last = *number;
            for (field, value) in values {
                assert!(header.contains_key(field), "{field} is not in the header");
                assert_eq!(value.trim(), value, "values are trimmed");
            }
            if problem.is_none() {
                assert_eq!(values.len(), header.len(), "a good row has every column");
                if values.values().any(|v| !v.is_empty()) {
                    good.push(values.clone());
                }
            }
        }
    }
    if header.is_empty() {
        return;
    }

    // Written back out as an export and read again: the same values.
    let columns: Vec<&str> = header.keys().copied().collect();
    let mut writer = ChunkWriter::new(&columns).expect("header written");
    for values in &good {
        writer
            .row(columns.iter().map(|c| values[c].as_bytes()))
            .expect("row written");
    }
    let written = writer.take().expect("export bytes");
    let again = read(&written[..], &HashMap::new(), 1000);
    let Some(Item::Header(h)) = again.first() else {
        panic!("{again:?}")
    };
    let names: Vec<&str> = h.keys().copied().collect();
    assert_eq!(names, columns);
    let mut back = Vec::new();
    for item in &again[1..] {
        let Item::Rows(rows) = item else { panic!("{item:?}") };
        for (_, values, problem) in rows {
            assert_eq!(problem, &None, "{}", String::from_utf8_lossy(&written));
            back.push(values.clone());
        }
    }
    assert_eq!(back, good, "{}", String::from_utf8_lossy(&written));
});
