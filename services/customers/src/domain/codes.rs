//! Stable text codes stored for the wire enums, and their parsing.

use crm_kit::errors::reason;
use crm_kit::{Error, Result};
use crm_proto::customers::{CustomerKind, CustomerStatus, FollowUpMethod, Gender, OwnerChangeReason};

/// Storage code of a customer kind.
pub fn kind_code(k: CustomerKind) -> &'static str {
    match k {
        CustomerKind::Individual => "individual",
        CustomerKind::Company | CustomerKind::Unspecified => "company",
    }
}

/// Wire kind of a storage code.
pub fn kind_of(code: &str) -> CustomerKind {
    if code == "individual" {
        CustomerKind::Individual
    } else {
        CustomerKind::Company
    }
}

/// Parses a wire kind (unspecified is refused where a kind is required).
pub fn parse_kind(field: &str, raw: i32) -> Result<CustomerKind> {
    match CustomerKind::try_from(raw) {
        Ok(CustomerKind::Unspecified) => Err(Error::invalid(field, reason::REQUIRED, "must be COMPANY or INDIVIDUAL")),
        Ok(k) => Ok(k),
        Err(_) => Err(Error::invalid(
            field,
            reason::UNKNOWN_ENUM_VALUE,
            format!("{raw} is not a customer kind"),
        )),
    }
}

/// Storage code of a status.
pub fn status_code(s: CustomerStatus) -> &'static str {
    match s {
        CustomerStatus::Active => "active",
        CustomerStatus::Dormant => "dormant",
        CustomerStatus::Lost => "lost",
        CustomerStatus::Potential | CustomerStatus::Unspecified => "potential",
    }
}

/// Wire status of a storage code.
pub fn status_of(code: &str) -> CustomerStatus {
    match code {
        "active" => CustomerStatus::Active,
        "dormant" => CustomerStatus::Dormant,
        "lost" => CustomerStatus::Lost,
        _ => CustomerStatus::Potential,
    }
}

/// Parses a wire status; unspecified means potential.
pub fn parse_status(field: &str, raw: i32) -> Result<CustomerStatus> {
    CustomerStatus::try_from(raw).map_err(|_| {
        Error::invalid(
            field,
            reason::UNKNOWN_ENUM_VALUE,
            format!("{raw} is not a customer status"),
        )
    })
}

/// Storage code of a gender.
pub fn gender_code(g: Gender) -> &'static str {
    match g {
        Gender::Male => "male",
        Gender::Female => "female",
        Gender::Other => "other",
        Gender::Unspecified => "",
    }
}

/// Wire gender of a storage code.
pub fn gender_of(code: &str) -> Gender {
    match code {
        "male" => Gender::Male,
        "female" => Gender::Female,
        "other" => Gender::Other,
        _ => Gender::Unspecified,
    }
}

/// Parses a wire gender.
pub fn parse_gender(field: &str, raw: i32) -> Result<Gender> {
    Gender::try_from(raw)
        .map_err(|_| Error::invalid(field, reason::UNKNOWN_ENUM_VALUE, format!("{raw} is not a gender")))
}

/// Storage code of a follow-up method.
pub fn method_code(m: FollowUpMethod) -> &'static str {
    match m {
        FollowUpMethod::Phone => "phone",
        FollowUpMethod::Email => "email",
        FollowUpMethod::Im => "im",
        FollowUpMethod::Visit => "visit",
        FollowUpMethod::Meeting => "meeting",
        FollowUpMethod::Other | FollowUpMethod::Unspecified => "other",
    }
}

/// Wire method of a storage code.
pub fn method_of(code: &str) -> FollowUpMethod {
    match code {
        "phone" => FollowUpMethod::Phone,
        "email" => FollowUpMethod::Email,
        "im" => FollowUpMethod::Im,
        "visit" => FollowUpMethod::Visit,
        "meeting" => FollowUpMethod::Meeting,
        _ => FollowUpMethod::Other,
    }
}

/// Parses a wire follow-up method (required).
pub fn parse_method(field: &str, raw: i32) -> Result<FollowUpMethod> {
    crm_kit::errors::required_enum(field, raw, "a follow-up method")
}

/// Storage code of an owner-change reason.
pub fn reason_code(r: OwnerChangeReason) -> &'static str {
    match r {
        OwnerChangeReason::Create | OwnerChangeReason::Unspecified => "create",
        OwnerChangeReason::Assign => "assign",
        OwnerChangeReason::Transfer => "transfer",
        OwnerChangeReason::Claim => "claim",
        OwnerChangeReason::Release => "release",
        OwnerChangeReason::Reclaim => "reclaim",
        OwnerChangeReason::Handover => "handover",
        OwnerChangeReason::Merge => "merge",
        OwnerChangeReason::Import => "import",
    }
}

/// Wire reason of a storage code.
pub fn reason_of(code: &str) -> OwnerChangeReason {
    match code {
        "assign" => OwnerChangeReason::Assign,
        "transfer" => OwnerChangeReason::Transfer,
        "claim" => OwnerChangeReason::Claim,
        "release" => OwnerChangeReason::Release,
        "reclaim" => OwnerChangeReason::Reclaim,
        "handover" => OwnerChangeReason::Handover,
        "merge" => OwnerChangeReason::Merge,
        "import" => OwnerChangeReason::Import,
        _ => OwnerChangeReason::Create,
    }
}
