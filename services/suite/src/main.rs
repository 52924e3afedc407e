//! `crm`: the whole CRM on one machine. Ctrl-c stops it cleanly. `crm backup` and
//! `crm restore` copy its SQLite files out and back.

use clap::Parser;
use crm_suite::{Cli, Command};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        None => run(cli.suite).await,
        Some(Command::Backup(args)) => crm_suite::backup::backup(&args.data_dir, &args.to)
            .await
            .map(|backup| println!("{backup}"))
            .map_err(|e| e.to_string()),
        Some(Command::Restore(args)) => crm_suite::backup::restore(&args.data_dir, &args.from)
            .await
            .map(|restore| println!("{restore}"))
            .map_err(|e| e.to_string()),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("crm: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Runs the suite until ctrl-c or SIGTERM.
async fn run(config: crm_suite::SuiteConfig) -> Result<(), String> {
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
        if let Some(addr) = started.metrics {
            println!("  {:<10} http://{addr}/metrics  (Prometheus text)", "metrics");
        }
    })
    .await;
    telemetry.shutdown().await;
    result.map_err(|e| e.to_string())
}
