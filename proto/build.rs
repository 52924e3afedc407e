//! Compiles every contract under `proto/` with protox (pure Rust, no system `protoc`) and
//! generates messages, clients and servers with tonic-prost-build. The encoded descriptor set
//! is written next to the generated code for reflection and the gateway.

use std::path::{Path, PathBuf};

fn proto_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read proto dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            proto_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "proto") {
            out.push(path);
        }
    }
}

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("manifest dir"));
    let mut files = Vec::new();
    proto_files(&root.join("google"), &mut files);
    proto_files(&root.join("crm"), &mut files);
    files.sort();
    println!("cargo:rerun-if-changed=crm");
    println!("cargo:rerun-if-changed=google");

    let fds = protox::compile(&files, [&root]).expect("contracts compile");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("out dir"));
    std::fs::write(out.join("crm_descriptor.bin"), prost::Message::encode_to_vec(&fds)).expect("write descriptor set");

    tonic_prost_build::configure()
        // Ordered maps encode deterministically, so a request can be fingerprinted for idempotency.
        .btree_map(".")
        .build_client(true)
        .build_server(true)
        .compile_fds(fds)
        .expect("generate code");
}
