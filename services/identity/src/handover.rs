//! Departure and handover: an employee's open records pass to a successor. Identity decides
//! and announces (`EmployeeDeactivated`, `HandoverRequested` on its event feed, written in the
//! same transaction as the deactivation); each service that owns records moves its own when it
//! applies the event. A dry run asks those services how much would move.
//!
//! Service tokens live here too: identity issues them against the shared service secret, and
//! signs its own for the count calls it makes.

use std::time::Duration;

use crm_kit::auth::token::{self, Claims};
use crm_kit::errors::Violations;
use crm_kit::{Error, Result};
use crm_proto::events as events_pb;
use crm_proto::identity as pb;
use sha2::Digest as _;
use sqlx::AnyConnection;

use crate::keys;
use crm_kit::errors::reason;

/// Permissions a service token carries: following feeds and answering handover counts.
pub const SERVICE_PERMISSIONS: &[&str] = &["events.feed.subscribe", "events.handover.count"];

/// How long a service token lives.
const SERVICE_TOKEN_SECONDS: i64 = 15 * 60;

/// Longest a peer may take to count.
const COUNT_DEADLINE: Duration = Duration::from_secs(10);

/// Checks a service name: lowercase letters, digits and dashes, starting with a letter.
fn check_service_name(name: &str, v: &mut Violations) {
    let ok = !name.is_empty()
        && name.len() <= 40
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !ok {
        v.add(
            "service",
            reason::MALFORMED,
            "a service name: up to 40 lowercase letters, digits and dashes, starting with a letter",
        );
    }
}

/// Whether two secrets are equal, in time that does not depend on where they differ.
fn same_secret(a: &str, b: &str) -> bool {
    let (x, y) = (sha2::Sha256::digest(a.as_bytes()), sha2::Sha256::digest(b.as_bytes()));
    x.iter().zip(y.iter()).fold(0u8, |acc, (p, q)| acc | (p ^ q)) == 0
}

/// A service token for `service`, signed with the current key.
pub async fn service_token(conn: &mut AnyConnection, service: &str) -> Result<(String, i64)> {
    let now = crm_kit::time::now_seconds();
    let claims = Claims {
        iss: crm_kit::auth::ISSUER.into(),
        aud: vec![crm_kit::auth::AUDIENCE.into()],
        sub: format!("service:{service}"),
        iat: now,
        nbf: now,
        exp: now + SERVICE_TOKEN_SECONDS,
        jti: crm_kit::new_id(),
        name: service.to_string(),
        dept: String::new(),
        dpath: String::new(),
        roles: vec!["service".into()],
        perms: SERVICE_PERMISSIONS.iter().map(|p| (*p).to_string()).collect(),
        scopes: [("*".to_string(), "all".to_string())].into_iter().collect(),
    };
    let (kid, key) = keys::current(conn).await?;
    Ok((token::sign(&claims, &kid, &key), claims.exp))
}

/// `IssueServiceToken`: a token for a service that presents the shared secret.
pub async fn issue_service_token(
    conn: &mut AnyConnection,
    secret: &str,
    req: &pb::IssueServiceTokenRequest,
) -> Result<pb::IssueServiceTokenResponse> {
    let mut v = Violations::new();
    check_service_name(req.service.trim(), &mut v);
    if req.secret.is_empty() {
        v.add("secret", reason::REQUIRED, "is required");
    }
    v.finish()?;
    if !same_secret(&req.secret, secret) {
        tracing::warn!(service = %req.service, "service token refused: wrong service secret");
        return Err(Error::unauthenticated(
            "BAD_SERVICE_SECRET",
            "the service secret is wrong",
        ));
    }
    let (access_token, exp) = service_token(conn, req.service.trim()).await?;
    Ok(pb::IssueServiceTokenResponse {
        access_token,
        expires_at: Some(prost_types::Timestamp { seconds: exp, nanos: 0 }),
    })
}

/// Asks every peer how many records of `employee_id` a handover would move. A peer that cannot
/// answer makes the whole count fail (a partial count would mislead) when `all_or_nothing`;
/// otherwise its counts are left out and the failure logged.
pub async fn count(
    conn: &mut AnyConnection,
    peers: &[String],
    employee_id: &str,
    all_or_nothing: bool,
) -> Result<Vec<events_pb::HandoverCount>> {
    if peers.is_empty() {
        return Ok(Vec::new());
    }
    let (token, _) = service_token(conn, "identity").await?;
    let mut counts = Vec::new();
    for peer in peers {
        match count_at(peer, &token, employee_id).await {
            Ok(mut c) => counts.append(&mut c),
            Err(e) if all_or_nothing => {
                return Err(Error::Unavailable(format!("cannot count the handover at {peer}: {e}")));
            }
            Err(e) => tracing::warn!(peer = %peer, error = %e, "handover count left out"),
        }
    }
    counts.sort_by(|a, b| (&a.service, &a.kind).cmp(&(&b.service, &b.kind)));
    Ok(counts)
}

async fn count_at(peer: &str, token: &str, employee_id: &str) -> Result<Vec<events_pb::HandoverCount>> {
    let channel = tonic::transport::Endpoint::from_shared(peer.to_string())
        .map_err(|e| Error::Internal(format!("handover peer {peer}: {e}")))?
        .connect_timeout(Duration::from_secs(3))
        .timeout(COUNT_DEADLINE)
        .connect()
        .await
        .map_err(|e| Error::Unavailable(e.to_string()))?;
    let request = crm_kit::auth::bearer_request(
        token,
        events_pb::CountHandoverRequest {
            employee_id: employee_id.to_string(),
        },
    )?;
    let response = events_pb::handover_service_client::HandoverServiceClient::new(channel)
        .count_handover(request)
        .await
        .map_err(|s| Error::Unavailable(s.message().to_string()))?;
    Ok(response.into_inner().counts)
}
