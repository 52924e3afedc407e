//! `crm-sales`: the sales service on its own (as Kubernetes runs it).

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let config = crm_sales::Config::parse();
    let telemetry = crm_kit::telemetry::init(config.log_format, "crm-sales");
    crm_kit::limits::raise_descriptor_limit();
    let result = crm_sales::run_standalone(config, crm_kit::serve::shutdown_signal()).await;
    telemetry.shutdown().await;
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "crm-sales failed");
            std::process::ExitCode::FAILURE
        }
    }
}
