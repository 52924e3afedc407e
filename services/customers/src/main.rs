//! `crm-customers`: the customers service on its own (as Kubernetes runs it).

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let config = crm_customers::Config::parse();
    crm_kit::telemetry::init(config.log_format);
    match crm_customers::run_standalone(config, crm_kit::serve::shutdown_signal()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "crm-customers failed");
            std::process::ExitCode::FAILURE
        }
    }
}
