//! A service's own credentials: an access token identity issues against the shared service
//! secret, cached and renewed before it expires. Event consumers present it to the feeds they
//! follow.

use std::time::Duration;

use crm_proto::identity as pb;
use tokio::sync::Mutex;

use crate::errors::{Error, Result};

/// Renew a cached token this long before it expires.
const RENEW_BEFORE_SECONDS: i64 = 120;

/// Fetches and caches one service's token.
#[derive(Debug)]
pub struct ServiceCredentials {
    identity_url: String,
    service: String,
    secret: String,
    cached: Mutex<Option<(String, i64)>>,
}

impl ServiceCredentials {
    /// Credentials of `service`, issued by identity at `identity_url` against `secret`.
    pub fn new(identity_url: &str, service: &str, secret: &str) -> ServiceCredentials {
        ServiceCredentials {
            identity_url: identity_url.to_string(),
            service: service.to_string(),
            secret: secret.to_string(),
            cached: Mutex::new(None),
        }
    }

    /// A bearer token valid for at least two more minutes.
    pub async fn token(&self) -> Result<String> {
        let mut cached = self.cached.lock().await;
        if let Some((token, expires)) = cached.as_ref()
            && *expires - RENEW_BEFORE_SECONDS > crate::time::now_seconds()
        {
            return Ok(token.clone());
        }
        let channel = tonic::transport::Endpoint::from_shared(self.identity_url.clone())
            .map_err(|e| Error::Internal(format!("identity URL {}: {e}", self.identity_url)))?
            .connect_timeout(Duration::from_secs(3))
            .timeout(Duration::from_secs(10))
            .connect()
            .await
            .map_err(|e| Error::Unavailable(format!("identity at {} is unreachable: {e}", self.identity_url)))?;
        let response = pb::identity_service_client::IdentityServiceClient::new(channel)
            .issue_service_token(pb::IssueServiceTokenRequest {
                service: self.service.clone(),
                secret: self.secret.clone(),
            })
            .await
            .map_err(|s| match s.code() {
                tonic::Code::Unauthenticated | tonic::Code::PermissionDenied | tonic::Code::InvalidArgument => {
                    Error::Internal(format!(
                        "identity refused the service secret of {}: {} (is CRM_SERVICE_SECRET the same everywhere?)",
                        self.service,
                        s.message()
                    ))
                }
                _ => Error::Unavailable(format!("identity did not issue a service token: {}", s.message())),
            })?
            .into_inner();
        let expires = response.expires_at.map_or(0, |t| t.seconds);
        *cached = Some((response.access_token.clone(), expires));
        Ok(response.access_token)
    }
}
