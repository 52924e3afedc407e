//! `crm-gateway`: the gateway on its own (as Kubernetes runs it).

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let config = crm_gateway::Config::parse();
    let telemetry = crm_kit::telemetry::init(config.log_format, "crm-gateway");
    let result = crm_gateway::run_standalone(config, crm_kit::serve::shutdown_signal()).await;
    telemetry.shutdown().await;
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "crm-gateway failed");
            std::process::ExitCode::FAILURE
        }
    }
}
