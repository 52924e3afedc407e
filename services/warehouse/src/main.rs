//! `crm-warehouse`: the warehouse service on its own (as Kubernetes runs it).

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let config = crm_warehouse::Config::parse();
    let telemetry = crm_kit::telemetry::init(config.log_format, "crm-warehouse");
    crm_kit::limits::raise_descriptor_limit();
    let result = crm_warehouse::run_standalone(config, crm_kit::serve::shutdown_signal()).await;
    telemetry.shutdown().await;
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "crm-warehouse failed");
            std::process::ExitCode::FAILURE
        }
    }
}
