//! Failures as HTTP: the gRPC code becomes the HTTP status, and the body is Google's JSON
//! error form with the google.rpc details kept (`BadRequest` field violations, `ErrorInfo`,
//! `RetryInfo`, ...), so a REST caller learns exactly what a gRPC caller learns.

use prost_reflect::{DescriptorPool, DynamicMessage};
use tonic::{Code, Status};

/// The HTTP status for a gRPC code.
pub fn http_status(code: Code) -> http::StatusCode {
    use http::StatusCode as H;
    match code {
        Code::Ok => H::OK,
        Code::Cancelled => H::from_u16(499).unwrap_or(H::BAD_REQUEST),
        Code::InvalidArgument | Code::OutOfRange => H::BAD_REQUEST,
        Code::DeadlineExceeded => H::GATEWAY_TIMEOUT,
        Code::NotFound => H::NOT_FOUND,
        Code::AlreadyExists | Code::Aborted => H::CONFLICT,
        Code::PermissionDenied => H::FORBIDDEN,
        Code::Unauthenticated => H::UNAUTHORIZED,
        Code::ResourceExhausted => H::TOO_MANY_REQUESTS,
        Code::FailedPrecondition => H::PRECONDITION_FAILED,
        Code::Unimplemented => H::NOT_IMPLEMENTED,
        Code::Unavailable => H::SERVICE_UNAVAILABLE,
        Code::Unknown | Code::Internal | Code::DataLoss => H::INTERNAL_SERVER_ERROR,
    }
}

/// The upper-snake name of a gRPC code.
pub fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

/// The details of a status (from `grpc-status-details-bin`) as proto3 JSON, each with its
/// `@type`.
pub fn details_json(pool: &DescriptorPool, status: &Status) -> Vec<serde_json::Value> {
    if status.details().is_empty() {
        return Vec::new();
    }
    let Some(descriptor) = pool.get_message_by_name("google.rpc.Status") else {
        return Vec::new();
    };
    let Ok(message) = DynamicMessage::decode(descriptor, status.details()) else {
        tracing::warn!("undecodable grpc-status-details-bin");
        return Vec::new();
    };
    match crate::transcode::to_json(&message) {
        Ok(serde_json::Value::Object(mut fields)) => match fields.remove("details") {
            Some(serde_json::Value::Array(details)) => details,
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// The seconds of a `RetryInfo` detail, rounded up, for `Retry-After`.
pub fn retry_after_seconds(details: &[serde_json::Value]) -> Option<u64> {
    let delay = details
        .iter()
        .find(|d| d["@type"] == "type.googleapis.com/google.rpc.RetryInfo")?["retryDelay"]
        .as_str()?;
    let seconds: f64 = delay.strip_suffix('s')?.parse().ok()?;
    Some(seconds.ceil().max(1.0) as u64)
}

/// The JSON error document for `status`.
pub fn body(
    pool: &DescriptorPool,
    status: &Status,
    http: http::StatusCode,
    request_id: &str,
) -> (Vec<u8>, Option<u64>) {
    let details = details_json(pool, status);
    let retry = retry_after_seconds(&details);
    let doc = serde_json::json!({
        "error": {
            "code": http.as_u16(),
            "status": code_name(status.code()),
            "message": status.message(),
            "details": details,
            "requestId": request_id,
        }
    });
    (serde_json::to_vec(&doc).unwrap_or_default(), retry)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn details_survive_as_json() {
        let pool = DescriptorPool::decode(crm_proto::FILE_DESCRIPTOR_SET).unwrap();
        let status: Status = crm_kit::Error::invalid("customer.name", "REQUIRED", "is required").into();
        let (bytes, retry) = body(&pool, &status, http_status(status.code()), "r-1");
        let doc: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(doc["error"]["code"], 400);
        assert_eq!(doc["error"]["status"], "INVALID_ARGUMENT");
        assert_eq!(doc["error"]["requestId"], "r-1");
        let bad = &doc["error"]["details"][0];
        assert_eq!(bad["@type"], "type.googleapis.com/google.rpc.BadRequest");
        assert_eq!(bad["fieldViolations"][0]["field"], "customer.name");
        assert_eq!(bad["fieldViolations"][0]["reason"], "REQUIRED");
        assert_eq!(retry, None);

        let status: Status = crm_kit::Error::ResourceExhausted {
            reason: "RATE_LIMITED",
            message: "slow down".into(),
            retry_after: Some(std::time::Duration::from_millis(1500)),
        }
        .into();
        let (_, retry) = body(&pool, &status, http_status(status.code()), "r-2");
        assert_eq!(retry, Some(2));
        assert_eq!(
            http_status(Code::ResourceExhausted),
            http::StatusCode::TOO_MANY_REQUESTS
        );
        assert_eq!(
            http_status(Code::FailedPrecondition),
            http::StatusCode::PRECONDITION_FAILED
        );
    }
}
