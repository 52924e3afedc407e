//! The periodic reclaim job: every interval, owned customers that broke their level's
//! no-follow-up or no-order rule return to the public pool, with owner history reason
//! "reclaim". The job acts as the system caller.

use std::time::Duration;

use crm_kit::auth::Principal;
use crm_kit::serve::Stopping;

use crate::api::CustomersApi;

/// Runs the reclaim rules every `interval` until the service stops.
pub async fn run_periodically(api: CustomersApi, interval: Duration, mut stopping: Stopping) {
    let caller = Principal::service(crate::api::SERVICE);
    loop {
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = stopping.wait() => return,
        }
        if let Err(e) = api.reclaim_due(&caller, false).await {
            tracing::warn!(error = %e, "reclaim run failed; will retry next interval");
        }
    }
}
