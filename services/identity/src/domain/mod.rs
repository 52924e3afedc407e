//! Pure rules of the identity service: no I/O.
//!
//! - [`credentials`]: password rules, the sign-in lockout, refresh-token hashing and the issue
//!   time a token states.
//! - [`employee`]: logins, chosen employee ids, the fields an update may name (e-mail and phone
//!   are the kit's [`crm_kit::fields`]).
//! - [`department`]: names, paths in the department tree, the fields an update may name.
//! - [`role`]: role names, permission patterns, data scopes, and what a set of roles adds up to.

use crm_kit::Result;
use crm_kit::errors::Violations;

pub mod credentials;
pub mod department;
pub mod employee;
pub mod role;

pub use crm_kit::text::{check_notes, check_text};

/// The paths of an update mask, refused when one names a server-owned or unknown field.
pub fn mask_paths<'a>(
    mask: Option<&'a prost_types::FieldMask>,
    editable: &[&str],
    server_owned: &[&str],
    resource: &str,
) -> Result<Vec<&'a str>> {
    let mut v = Violations::new();
    let paths = crm_kit::update::mask_paths(
        mask.map_or(&[][..], |m| &m.paths),
        editable,
        server_owned,
        resource,
        &mut v,
    );
    v.finish()?;
    Ok(paths)
}
