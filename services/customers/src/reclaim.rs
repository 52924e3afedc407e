//! The periodic reclaim job: every interval, owned customers that broke their level's
//! no-follow-up or no-order rule return to the public pool, with owner history reason
//! "reclaim". The job acts as the system caller.

use crm_kit::auth::Principal;

use crate::api::CustomersApi;

/// One run of the reclaim rules, as the system caller (the service runs it every interval).
pub async fn run_once(api: CustomersApi) -> crm_kit::Result<()> {
    api.reclaim_due(&Principal::service(crate::api::SERVICE), false).await?;
    Ok(())
}
