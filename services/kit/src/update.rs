//! Updates: etags for optimistic concurrency and `update_mask` paths checked against what a
//! resource lets clients change (server-owned fields are refused by name, never ignored).

use crate::errors::reason;
use crate::errors::{Error, Result, Violations};

/// The etag of a row at `version`.
pub fn etag(version: i64) -> String {
    format!("v{version}")
}

/// Checks the etag a client sent (request field `field`) against the row's current version:
/// missing is INVALID_ARGUMENT, stale is ABORTED.
pub fn check_etag(field: &str, sent: &str, current_version: i64, resource: &str) -> Result<()> {
    match sent.trim() {
        "" => Err(Error::invalid(
            field,
            reason::REQUIRED,
            "is required: send the etag you read",
        )),
        s if s == etag(current_version) => Ok(()),
        _ => Err(Error::stale_etag(resource)),
    }
}

/// The paths of an `update_mask` that `editable` allows; every other path is a violation named
/// `update_mask.<path>` (SERVER_OWNED for `server_owned` ones, UNKNOWN_FIELD otherwise), and an
/// empty mask is REQUIRED.
pub fn mask_paths<'a>(
    paths: &'a [String],
    editable: &[&str],
    server_owned: &[&str],
    resource: &str,
    v: &mut Violations,
) -> Vec<&'a str> {
    if paths.is_empty() {
        v.add("update_mask", reason::REQUIRED, "must name at least one field");
    }
    let mut out = Vec::new();
    for p in paths.iter().map(String::as_str) {
        if server_owned.contains(&p) {
            v.add(
                format!("update_mask.{p}"),
                "SERVER_OWNED",
                format!("{p} is set by the server and cannot be updated"),
            );
        } else if editable.contains(&p) {
            out.push(p);
        } else {
            v.add(
                format!("update_mask.{p}"),
                reason::UNKNOWN_FIELD,
                format!("{p} is not an editable field of {resource}"),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_and_etags() {
        let paths = vec!["name".to_string(), "owner_id".to_string(), "colour".to_string()];
        let mut v = Violations::new();
        let ok = mask_paths(&paths, &["name"], &["owner_id"], "Thing", &mut v);
        assert_eq!(ok, ["name"]);
        let Err(Error::InvalidArgument(violations)) = v.finish() else {
            panic!("violations expected");
        };
        let named: Vec<(&str, &str)> = violations.iter().map(|x| (x.field.as_str(), x.reason)).collect();
        assert_eq!(
            named,
            [
                ("update_mask.owner_id", "SERVER_OWNED"),
                ("update_mask.colour", "UNKNOWN_FIELD")
            ]
        );
        assert!(check_etag("etag", "v3", 3, "thing").is_ok());
        assert!(matches!(
            check_etag("etag", "v2", 3, "thing"),
            Err(Error::Aborted { .. })
        ));
        assert!(matches!(
            check_etag("etag", " ", 3, "thing"),
            Err(Error::InvalidArgument(_))
        ));
    }
}
