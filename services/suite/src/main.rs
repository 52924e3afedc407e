//! `crm`: the whole CRM on one machine. Ctrl-c stops it cleanly.

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let config = crm_suite::SuiteConfig::parse();
    let telemetry = crm_kit::telemetry::init(config.log_format, "crm");
    crm_kit::limits::raise_descriptor_limit();
    let data_dir = config.data_dir.clone();
    let result = crm_suite::run(config, crm_kit::serve::shutdown_signal(), |started| {
        println!("CRM suite running (data in {}); ctrl-c stops it", data_dir.display());
        for (name, addr) in &started.services {
            if *name == "gateway" {
                println!("  {name:<10} http://{addr}  (REST/JSON, OpenAPI at /openapi.json, gRPC-Web and gRPC)");
            } else {
                println!("  {name:<10} grpc://{addr}");
            }
        }
    })
    .await;
    telemetry.shutdown().await;
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("crm: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
