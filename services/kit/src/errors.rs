//! The one mapping from domain failures to the wire.
//!
//! Services return [`Error`]; the api layer turns it into a `tonic::Status` carrying
//! google.rpc details (`BadRequest` field violations, `ErrorInfo` with an UPPER_SNAKE reason,
//! `PreconditionFailure`, `ResourceInfo`). Database text never reaches a client: storage
//! failures are logged here and answered with a bare INTERNAL.

use std::collections::HashMap;

use tonic::{Code, Status};
use tonic_types::{
    BadRequest, ErrorDetail, ErrorInfo, FieldViolation as WireViolation, PreconditionFailure, PreconditionViolation,
    ResourceInfo, RetryInfo, StatusExt,
};

/// The `ErrorInfo.domain` of every error this suite raises.
pub const ERROR_DOMAIN: &str = "crm";

/// The reason codes of field violations (`FieldViolation::reason`), one set for every service,
/// so a client handles "too long" or "unknown enum value" the same way whichever service said
/// it. A rule of one service only may have a code of its own (`CLAIM_CAP_REACHED`); a general
/// rule uses these.
pub mod reason {
    /// The field is missing or empty.
    pub const REQUIRED: &str = "REQUIRED";
    /// The field is not in its format (a number, an id, a date, an email address).
    pub const MALFORMED: &str = "MALFORMED";
    /// Longer than the field allows.
    pub const TOO_LONG: &str = "TOO_LONG";
    /// Shorter than the field allows.
    pub const TOO_SHORT: &str = "TOO_SHORT";
    /// More items than a list allows.
    pub const TOO_MANY: &str = "TOO_MANY";
    /// A number or a time outside the allowed range.
    pub const OUT_OF_RANGE: &str = "OUT_OF_RANGE";
    /// A negative number where none is allowed.
    pub const NEGATIVE: &str = "NEGATIVE";
    /// An enum number the contract does not define, or its UNSPECIFIED value where one is needed.
    pub const UNKNOWN_ENUM_VALUE: &str = "UNKNOWN_ENUM_VALUE";
    /// A field name (in an update mask, a filter, an order) the resource does not have.
    pub const UNKNOWN_FIELD: &str = "UNKNOWN_FIELD";
    /// Text with control characters.
    pub const CONTROL_CHARACTER: &str = "CONTROL_CHARACTER";
    /// The same item twice where items are unique.
    pub const DUPLICATE: &str = "DUPLICATE";
    /// A value the field's rules do not allow (a code not in its list).
    pub const INVALID_VALUE: &str = "INVALID_VALUE";
    /// A value that is well formed but not allowed in this request.
    pub const NOT_ALLOWED: &str = "NOT_ALLOWED";
    /// An upload or a value larger than the service accepts.
    pub const TOO_LARGE: &str = "TOO_LARGE";
    /// Content that must not be empty (an upload without bytes).
    pub const EMPTY: &str = "EMPTY";
    /// A decimal with more places than the field keeps (quantities keep 4).
    pub const TOO_PRECISE: &str = "TOO_PRECISE";
    /// Zero or less where only more than zero makes sense (a quantity to move).
    pub const NOT_POSITIVE: &str = "NOT_POSITIVE";
    /// A conversion between units that would not be exact.
    pub const INEXACT_CONVERSION: &str = "INEXACT_CONVERSION";
}

/// An enum from the wire that must be given: the value, or INVALID_ARGUMENT naming `field`,
/// REQUIRED for the UNSPECIFIED zero and UNKNOWN_ENUM_VALUE for a number the enum does not
/// define. `what` names the enum in the message ("a follow-up method").
pub fn required_enum<E: TryFrom<i32>>(field: &str, raw: i32, what: &str) -> Result<E> {
    if raw == 0 {
        return Err(Error::invalid(field, reason::REQUIRED, format!("{what} is required")));
    }
    E::try_from(raw).map_err(|_| Error::invalid(field, reason::UNKNOWN_ENUM_VALUE, format!("{raw} is not {what}")))
}

/// Result with the kit's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// One bad field of a request: which field, which rule, and a reason code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    /// Path of the field in the request, e.g. `customer.name`.
    pub field: String,
    /// The rule that was broken, in words a caller can act on.
    pub description: String,
    /// UPPER_SNAKE code of the rule, e.g. `REQUIRED`, `TOO_LONG`, `MALFORMED`.
    pub reason: &'static str,
}

/// Most field violations one INVALID_ARGUMENT reports (the first ones, then a count).
pub const MAX_REPORTED_VIOLATIONS: usize = 50;

/// A failure a service reports to its caller.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request is malformed; every bad field is listed.
    #[error("invalid request: {}", summary(.0))]
    InvalidArgument(Vec<FieldViolation>),
    /// The resource does not exist (or is outside the caller's scope).
    #[error("{resource_type} {id} not found")]
    NotFound { resource_type: &'static str, id: String },
    /// A resource with the same identity exists.
    #[error("{message}")]
    AlreadyExists {
        reason: &'static str,
        message: String,
        metadata: Vec<(String, String)>,
        resource: Option<Box<Resource>>,
    },
    /// The system is not in a state that allows the operation.
    #[error("{message}")]
    FailedPrecondition {
        reason: &'static str,
        message: String,
        subject: String,
        metadata: Vec<(String, String)>,
    },
    /// A concurrency conflict: stale etag, or a race lost.
    #[error("{message}")]
    Aborted { reason: &'static str, message: String },
    /// The caller may not do this.
    #[error("permission {permission} is required")]
    PermissionDenied { permission: String },
    /// No valid caller (or credentials refused). `reason` goes into ErrorInfo with `metadata`
    /// (e.g. the unlock time of a locked account).
    #[error("{message}")]
    Unauthenticated {
        reason: &'static str,
        message: String,
        metadata: Vec<(String, String)>,
    },
    /// A quota or limit is used up (rate limits, request size); the caller may retry after
    /// `retry_after` when it is set.
    #[error("{message}")]
    ResourceExhausted {
        reason: &'static str,
        message: String,
        retry_after: Option<std::time::Duration>,
    },
    /// A dependency is down; the caller may retry.
    #[error("{0}")]
    Unavailable(String),
    /// Something broke that the caller cannot fix; details are in the log only.
    #[error("internal error: {0}")]
    Internal(String),
}

/// Identifies an existing resource in an error, e.g. the customer a duplicate collides with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    pub resource_type: String,
    pub name: String,
    pub owner: String,
    pub description: String,
}

fn summary(violations: &[FieldViolation]) -> String {
    violations
        .iter()
        .map(|v| format!("{}: {}", v.field, v.description))
        .collect::<Vec<_>>()
        .join("; ")
}

impl Error {
    /// One bad field.
    pub fn invalid(field: impl Into<String>, reason: &'static str, description: impl Into<String>) -> Self {
        Error::InvalidArgument(vec![FieldViolation {
            field: field.into(),
            description: description.into(),
            reason,
        }])
    }

    /// A required field is missing.
    pub fn required(field: impl Into<String>) -> Self {
        Error::invalid(field, reason::REQUIRED, "is required")
    }

    /// Credentials missing or refused.
    pub fn unauthenticated(reason: &'static str, message: impl Into<String>) -> Self {
        Error::Unauthenticated {
            reason,
            message: message.into(),
            metadata: Vec::new(),
        }
    }

    /// NOT_FOUND for a resource (also what an out-of-scope resource looks like).
    pub fn not_found(resource_type: &'static str, id: impl Into<String>) -> Self {
        Error::NotFound {
            resource_type,
            id: id.into(),
        }
    }

    /// A precondition of the operation does not hold.
    pub fn precondition(reason: &'static str, subject: impl Into<String>, message: impl Into<String>) -> Self {
        Error::FailedPrecondition {
            reason,
            message: message.into(),
            subject: subject.into(),
            metadata: Vec::new(),
        }
    }

    /// The caller's etag is not the current one.
    pub fn stale_etag(resource_type: &str) -> Self {
        Error::Aborted {
            reason: "STALE_ETAG",
            message: format!("{resource_type} was changed by someone else; reload it and retry"),
        }
    }

    /// The gRPC code this error maps to.
    pub fn code(&self) -> Code {
        match self {
            Error::InvalidArgument(_) => Code::InvalidArgument,
            Error::NotFound { .. } => Code::NotFound,
            Error::AlreadyExists { .. } => Code::AlreadyExists,
            Error::FailedPrecondition { .. } => Code::FailedPrecondition,
            Error::Aborted { .. } => Code::Aborted,
            Error::PermissionDenied { .. } => Code::PermissionDenied,
            Error::Unauthenticated { .. } => Code::Unauthenticated,
            Error::ResourceExhausted { .. } => Code::ResourceExhausted,
            Error::Unavailable(_) => Code::Unavailable,
            Error::Internal(_) => Code::Internal,
        }
    }
}

fn info(reason: &str, metadata: HashMap<String, String>) -> ErrorDetail {
    ErrorDetail::ErrorInfo(ErrorInfo::new(reason, ERROR_DOMAIN, metadata))
}

impl From<Error> for Status {
    fn from(err: Error) -> Status {
        let code = err.code();
        match err {
            Error::InvalidArgument(mut violations) => {
                // The message and details travel in the response's headers: past a few dozen
                // violations they would outgrow what HTTP/2 peers accept and the client would
                // see a broken connection instead of its mistakes.
                let more = violations.len().saturating_sub(MAX_REPORTED_VIOLATIONS);
                violations.truncate(MAX_REPORTED_VIOLATIONS);
                let mut message = format!("invalid request: {}", summary(&violations));
                if more > 0 {
                    message.push_str(&format!("; and {more} more"));
                }
                let reason = violations.first().map_or("INVALID_ARGUMENT", |v| v.reason);
                let wire: Vec<WireViolation> = violations
                    .into_iter()
                    .map(|v| {
                        let mut w = WireViolation::new(v.field, v.description);
                        w.reason = v.reason.to_string();
                        w
                    })
                    .collect();
                Status::with_error_details_vec(
                    code,
                    message,
                    vec![
                        ErrorDetail::BadRequest(BadRequest::new(wire)),
                        info(reason, HashMap::new()),
                    ],
                )
            }
            Error::NotFound { resource_type, id } => Status::with_error_details_vec(
                code,
                format!("{resource_type} {id} not found"),
                vec![
                    ErrorDetail::ResourceInfo(ResourceInfo::new(resource_type, id, "", "not found")),
                    info("NOT_FOUND", HashMap::new()),
                ],
            ),
            Error::AlreadyExists {
                reason,
                message,
                metadata,
                resource,
            } => {
                let mut details = vec![info(reason, metadata.into_iter().collect())];
                if let Some(r) = resource {
                    details.push(ErrorDetail::ResourceInfo(ResourceInfo::new(
                        r.resource_type,
                        r.name,
                        r.owner,
                        r.description,
                    )));
                }
                Status::with_error_details_vec(code, message, details)
            }
            Error::FailedPrecondition {
                reason,
                message,
                subject,
                metadata,
            } => {
                let violation = PreconditionViolation::new(reason, subject, message.clone());
                Status::with_error_details_vec(
                    code,
                    message,
                    vec![
                        ErrorDetail::PreconditionFailure(PreconditionFailure::new(vec![violation])),
                        info(reason, metadata.into_iter().collect()),
                    ],
                )
            }
            Error::Aborted { reason, message } => {
                Status::with_error_details_vec(code, message, vec![info(reason, HashMap::new())])
            }
            Error::PermissionDenied { permission } => {
                let metadata = HashMap::from([("permission".to_string(), permission.clone())]);
                Status::with_error_details_vec(
                    code,
                    format!("permission {permission} is required"),
                    vec![info("PERMISSION_DENIED", metadata)],
                )
            }
            Error::Unauthenticated {
                reason,
                message,
                metadata,
            } => Status::with_error_details_vec(code, message, vec![info(reason, metadata.into_iter().collect())]),
            Error::ResourceExhausted {
                reason,
                message,
                retry_after,
            } => {
                let mut details = vec![info(reason, HashMap::new())];
                if let Some(delay) = retry_after {
                    details.push(ErrorDetail::RetryInfo(RetryInfo::new(Some(delay))));
                }
                Status::with_error_details_vec(code, message, details)
            }
            Error::Unavailable(message) => Status::unavailable(message),
            Error::Internal(detail) => {
                tracing::error!(error = %detail, "internal error");
                Status::internal("internal error")
            }
        }
    }
}

impl From<sqlx::Error> for Error {
    fn from(err: sqlx::Error) -> Self {
        match err {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                tracing::warn!(error = %err, "database unavailable");
                Error::Unavailable("the database is unavailable; retry later".into())
            }
            other => Error::Internal(format!("database: {other}")),
        }
    }
}

/// The outcome of an insert guarded by a unique index: `true` when written, `false` when the
/// index refused it (the caller names the clash), any other failure as an error.
pub fn inserted<T>(result: std::result::Result<T, sqlx::Error>) -> Result<bool> {
    match result {
        Ok(_) => Ok(true),
        Err(e) if is_unique_violation(&e) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Whether a database error is a unique-constraint violation (both backends).
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Database(db) => {
            db.is_unique_violation() || db.code().is_some_and(|c| c == "23505" || c == "2067" || c == "1555")
        }
        _ => false,
    }
}

/// Collects every field violation of a request before failing once.
#[derive(Debug, Default)]
pub struct Violations(Vec<FieldViolation>);

impl Violations {
    /// No violations yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one violation.
    pub fn add(&mut self, field: impl Into<String>, reason: &'static str, description: impl Into<String>) {
        self.0.push(FieldViolation {
            field: field.into(),
            description: description.into(),
            reason,
        });
    }

    /// Keeps the value of a parse, recording its violations.
    pub fn take<T>(&mut self, result: Result<T>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(Error::InvalidArgument(vs)) => {
                self.0.extend(vs);
                None
            }
            Err(other) => {
                self.add("request", "INVALID", other.to_string());
                None
            }
        }
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many violations were recorded (so a check can tell whether it added any).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Ok when nothing was recorded, else INVALID_ARGUMENT with all of them.
    pub fn finish(self) -> Result<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Error::InvalidArgument(self.0))
        }
    }
}

impl From<crate::paging::PageSizeError> for Error {
    fn from(e: crate::paging::PageSizeError) -> Self {
        Error::invalid("page_size", reason::OUT_OF_RANGE, e.to_string())
    }
}

impl From<crate::paging::PageTokenError> for Error {
    fn from(e: crate::paging::PageTokenError) -> Self {
        Error::invalid("page_token", "INVALID_PAGE_TOKEN", e.to_string())
    }
}

impl From<crate::filter::FilterError> for Error {
    fn from(e: crate::filter::FilterError) -> Self {
        Error::invalid("filter", e.reason, e.to_string())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn required_enums() {
        use crm_proto::customers::FollowUpMethod;
        let reason_of = |r: Result<FollowUpMethod>| match r {
            Err(Error::InvalidArgument(v)) => (v[0].field.clone(), v[0].reason),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            required_enum::<FollowUpMethod>("method", FollowUpMethod::Visit as i32, "a method").unwrap(),
            FollowUpMethod::Visit
        );
        assert_eq!(
            reason_of(required_enum("method", 0, "a method")),
            ("method".into(), reason::REQUIRED)
        );
        assert_eq!(
            reason_of(required_enum("method", 999, "a method")),
            ("method".into(), reason::UNKNOWN_ENUM_VALUE)
        );
    }

    use super::*;
    use tonic_types::StatusExt;

    #[test]
    fn a_flood_of_violations_is_reported_by_its_first_ones_and_a_count() {
        let mut v = Violations::new();
        for i in 0..10_000 {
            v.add(format!("tags[{i}]"), "REQUIRED", "is required");
        }
        let status: Status = v.finish().unwrap_err().into();
        assert_eq!(status.code(), Code::InvalidArgument);
        let bad = status.get_details_bad_request().expect("BadRequest");
        assert_eq!(bad.field_violations.len(), MAX_REPORTED_VIOLATIONS);
        assert_eq!(bad.field_violations[0].field, "tags[0]");
        assert!(status.message().ends_with("; and 9950 more"), "{}", status.message());
        assert!(status.message().len() < 4096, "{} bytes", status.message().len());
    }

    #[test]
    fn invalid_argument_carries_every_field() {
        let mut v = Violations::new();
        v.add("customer.name", "REQUIRED", "is required");
        v.add("customer.email", "MALFORMED", "must be an email address");
        let status: Status = v.finish().unwrap_err().into();
        assert_eq!(status.code(), Code::InvalidArgument);
        let bad = status.get_details_bad_request().expect("bad request details");
        let fields: Vec<_> = bad.field_violations.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["customer.name", "customer.email"]);
        assert_eq!(bad.field_violations[1].reason, "MALFORMED");
        assert!(status.message().contains("customer.email"));
    }

    #[test]
    fn internal_errors_do_not_leak() {
        let status: Status = Error::Internal("relation \"secret_table\" missing".into()).into();
        assert_eq!(status.code(), Code::Internal);
        assert!(!status.message().contains("secret_table"));
    }

    #[test]
    fn precondition_has_reason() {
        let status: Status = Error::precondition("CLAIM_CAP_REACHED", "customer/1", "cap reached").into();
        assert_eq!(status.code(), Code::FailedPrecondition);
        assert_eq!(status.get_details_error_info().unwrap().reason, "CLAIM_CAP_REACHED");
        let pf = status.get_details_precondition_failure().unwrap();
        assert_eq!(pf.violations[0].subject, "customer/1");
    }
}
