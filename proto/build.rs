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

    let mut compiler = protox::Compiler::new([&root]).expect("proto include path");
    compiler.include_imports(true).include_source_info(true);
    compiler.open_files(&files).expect("contracts compile");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("out dir"));
    // Encoded through reflection so custom options (google.api.http, crm.common.v1.access) and
    // comments (the OpenAPI document's descriptions) survive.
    std::fs::write(out.join("crm_descriptor.bin"), compiler.encode_file_descriptor_set())
        .expect("write descriptor set");
    std::fs::write(out.join("crm_access.rs"), access_table(&compiler.descriptor_pool())).expect("write access table");
    std::fs::write(out.join("crm_event_names.rs"), event_names(&compiler.descriptor_pool()))
        .expect("write event names");

    tonic_prost_build::configure()
        // Ordered maps encode deterministically, so a request can be fingerprinted for idempotency.
        .btree_map(".")
        // Undecodable bytes are the caller's fault: INVALID_ARGUMENT, not tonic's INTERNAL.
        .codec_path("crate::codec::ProtoCodec")
        .build_client(true)
        .build_server(true)
        .compile_fds(compiler.file_descriptor_set())
        .expect("generate code");
}

/// `prost::Name` for every event payload (the messages of each `crm/<service>/v1/events.proto`),
/// so an event's type is its message's full name and its `Any` type URL follows from it.
fn event_names(pool: &protox::prost_reflect::DescriptorPool) -> String {
    let mut out = String::new();
    for file in pool
        .files()
        .filter(|f| f.name().starts_with("crm/") && f.name().ends_with("/events.proto"))
    {
        for message in file.messages() {
            let rust_path = format!("crate::{}", message.full_name().replace('.', "::"));
            out.push_str(&format!(
                "impl ::prost::Name for {rust_path} {{\n    const NAME: &'static str = {name:?};\n    const PACKAGE: &'static str = {package:?};\n    fn full_name() -> ::std::string::String {{ {full:?}.into() }}\n    fn type_url() -> ::std::string::String {{ concat!(\"type.googleapis.com/\", {full:?}).into() }}\n}}\n",
                name = message.name(),
                package = message.package_name(),
                full = message.full_name(),
            ));
        }
    }
    out
}

/// The access rule of every CRM method, sorted by gRPC path. A `crm.*` method without
/// `(crm.common.v1.access)` fails the build: nothing is reachable by omission.
fn access_table(pool: &protox::prost_reflect::DescriptorPool) -> String {
    use protox::prost_reflect::Value;
    let extension = pool
        .get_extension_by_name("crm.common.v1.access")
        .expect("crm.common.v1.access is declared");
    let mut rows = Vec::new();
    for service in pool.services().filter(|s| s.full_name().starts_with("crm.")) {
        for method in service.methods() {
            let path = format!("/{}/{}", service.full_name(), method.name());
            let options = method.options();
            assert!(
                options.has_extension(&extension),
                "{path} declares no (crm.common.v1.access) option"
            );
            let Value::Message(access) = options.get_extension(&extension).into_owned() else {
                panic!("{path}: access is a message");
            };
            let permission = access
                .get_field_by_name("permission")
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            let public = access
                .get_field_by_name("public")
                .and_then(|v| v.as_bool())
                .unwrap_or(false);
            assert!(
                !public || permission.is_empty(),
                "{path}: a public method names no permission"
            );
            assert!(
                permission.is_empty() || permission.split('.').count() == 3,
                "{path}: permission {permission:?} is not <service>.<resource>.<action>"
            );
            rows.push((path, permission, public));
        }
    }
    rows.sort();
    let mut out = String::from(
        "/// The access rule of every CRM method, sorted by path.\npub static METHOD_ACCESS: &[MethodAccess] = &[\n",
    );
    for (path, permission, public) in rows {
        out.push_str(&format!(
            "    MethodAccess {{ path: {path:?}, permission: {permission:?}, public: {public} }},\n"
        ));
    }
    out.push_str("];\n");
    out
}
