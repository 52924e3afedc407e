//! Embeds the web console's built files (`web/console/dist`, committed; CI checks they are what
//! the sources build) so the gateway serves the console with nothing to install.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            files(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let dist = manifest.join("../web/console/dist");
    println!("cargo:rerun-if-changed={}", dist.display());
    let mut found = Vec::new();
    files(&dist, &mut found);
    let mut table = String::from("/// The console's files by URL path.\npub static FILES: &[(&str, &[u8])] = &[\n");
    for path in &found {
        let rel = path.strip_prefix(&dist).expect("under dist");
        let url: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        let _ = writeln!(
            table,
            "    ({:?}, include_bytes!({:?})),",
            format!("/{}", url.join("/")),
            path.canonicalize().unwrap_or(path.clone())
        );
    }
    table.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("console_files.rs");
    std::fs::write(out, table).expect("write the console's file table");
}
