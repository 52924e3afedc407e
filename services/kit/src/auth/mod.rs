//! Who is calling and what they may do.
//!
//! Every call to a CRM method carries `authorization: Bearer <access token>`. The [`AuthLayer`]
//! looks the method up in the contracts' access table (`crm_proto::METHOD_ACCESS`, generated
//! from each RPC's `(crm.common.v1.access)` option), verifies the token with the identity
//! service's public keys ([`Verifier`]), checks the method's permission, and puts the
//! [`Principal`] into the request's extensions. Handlers then only decide object-level access:
//! [`Principal::scope_filter`] turns the caller's data scope into a SQL predicate.
//!
//! Nothing from the request other than a verified token decides who the caller is.

mod credentials;
mod layer;
pub mod token;
mod verifier;

use std::collections::BTreeMap;

pub use credentials::ServiceCredentials;
pub use layer::{AuthLayer, AuthService, bearer};
pub use verifier::{
    DEACTIVATED, DEFAULT_REVOCATION_POLL, Fetched, FetchedRevocations, Fetching, FetchingRevocations, KeySource,
    Revocation, RevocationWatch, StaticKeys, Verifier,
};

use crate::filter::{CompiledFilter, SqlValue, like_escape};

/// The issuer every access token names.
pub const ISSUER: &str = "crm-identity";
/// The audience every access token names.
pub const AUDIENCE: &str = "crm";

/// How far a caller's reach goes in one service's records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// Records the employee owns or collaborates on.
    Own,
    /// Records owned by anyone in the employee's department.
    Department,
    /// The employee's department and every department below it.
    DepartmentTree,
    /// Every record.
    All,
}

impl Scope {
    /// The name used in tokens and roles.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Own => "own",
            Scope::Department => "department",
            Scope::DepartmentTree => "department_tree",
            Scope::All => "all",
        }
    }

    /// Reads a name written by [`Scope::as_str`].
    pub fn parse(s: &str) -> Option<Scope> {
        Some(match s {
            "own" => Scope::Own,
            "department" => Scope::Department,
            "department_tree" => Scope::DepartmentTree,
            "all" => Scope::All,
            _ => return None,
        })
    }
}

/// Whether permission pattern `granted` (segments may be `*`; `*` alone grants everything)
/// covers `needed`.
pub fn permission_matches(granted: &str, needed: &str) -> bool {
    if granted == "*" {
        return true;
    }
    let mut g = granted.split('.');
    let mut n = needed.split('.');
    loop {
        match (g.next(), n.next()) {
            (None, None) => return true,
            (Some(a), Some(b)) if a == "*" || a == b => {}
            _ => return false,
        }
    }
}

/// A request to another service carrying `authorization: Bearer <token>` and the current trace
/// context: a user's token forwarded on their behalf, or a service's own token.
pub fn bearer_request<T>(token: &str, message: T) -> crate::Result<tonic::Request<T>> {
    let mut request = tonic::Request::new(message);
    let value = format!("Bearer {token}")
        .parse()
        .map_err(|_| crate::Error::unauthenticated("MALFORMED_TOKEN", "the token cannot be sent in a header"))?;
    request.metadata_mut().insert("authorization", value);
    crate::telemetry::inject_trace_context(request.metadata_mut());
    Ok(request)
}

/// How a server learns who is calling.
#[derive(Debug, Clone)]
pub enum Gate {
    /// Verify each call's bearer token with identity's keys and check the method's permission
    /// (every service in production).
    Verify(std::sync::Arc<Verifier>),
    /// Treat every call as made by this principal, reading no token and checking nothing: the
    /// baseline against which benchmarks measure the gate's own cost. Exists only with the
    /// kit's `testing` feature.
    #[cfg(feature = "testing")]
    Trust(Principal),
}

/// The verified caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// Employee id (for a service identity, `service:<name>`).
    pub employee_id: String,
    pub display_name: String,
    pub department_id: String,
    /// Department ids from the top of the tree down (`/d1/d7/`).
    pub department_path: String,
    pub roles: Vec<String>,
    /// Granted permission patterns.
    pub permissions: Vec<String>,
    /// Data scope per service; a service not named means [`Scope::Own`].
    pub scopes: BTreeMap<String, Scope>,
    /// The bearer token the call came with, forwarded on calls made on the caller's behalf.
    pub token: String,
}

/// How one kind of record is scoped: the service whose data scope applies, where its rows keep
/// their owner, and who sees rows nobody owns (a public pool).
#[derive(Debug, Clone, Copy)]
pub struct ScopeRule {
    /// The service name in data scopes (`customers`, `sales`).
    pub service: &'static str,
    pub columns: ScopeColumns<'static>,
    /// Holders of any of these permissions also see rows whose owner is empty (the pool);
    /// empty: unowned rows are in scope only for callers who see everything.
    pub unowned_visible_to: &'static [&'static str],
}

/// Which rows a read may return: the caller's data scope over one kind of record, or every row
/// when that is written on purpose ([`ReadScope::everything`]). Every read query starts from one
/// ([`crate::sql::SqlBuf::read`]), so a read cannot leave the scope out by forgetting it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadScope {
    predicate: Option<CompiledFilter>,
}

impl ReadScope {
    /// The rows under `rule` that `caller` may see.
    pub fn of(caller: &Principal, rule: &ScopeRule) -> ReadScope {
        let predicate = caller.scope_filter(rule.service, rule.columns).map(|mut filter| {
            if rule.unowned_visible_to.iter().any(|p| caller.has_permission(p)) {
                filter.sql = format!("({} = '' OR {})", rule.columns.owner, filter.sql);
            }
            filter
        });
        ReadScope { predicate }
    }

    /// Every row, whoever asks. Only for a service's own work (reclaim runs, event consumers,
    /// handovers) and for rows picked by an earlier scoped read or checked one by one
    /// (`why` says which, for the reader of the call).
    pub const fn everything(why: &'static str) -> ReadScope {
        let _ = why;
        ReadScope { predicate: None }
    }

    /// The SQL condition (placeholders from `$1`), or `None` when every row is in scope.
    pub fn predicate(&self) -> Option<&CompiledFilter> {
        self.predicate.as_ref()
    }
}

/// Where a table keeps what scope predicates look at.
#[derive(Debug, Clone, Copy)]
pub struct ScopeColumns<'a> {
    /// The owner's employee id column, e.g. `c.owner_id`.
    pub owner: &'a str,
    /// The owner's department path column, e.g. `c.owner_department_path`.
    pub owner_department_path: &'a str,
    /// A condition true when the employee in `$1` collaborates on the row, e.g.
    /// `EXISTS (SELECT 1 FROM collaborators x WHERE x.customer_id = c.id AND x.employee_id = $1)`.
    pub collaborator: Option<&'a str>,
}

impl Principal {
    /// The identity of a service's own background work (reclaim runs, event consumers): every
    /// permission, every record.
    pub fn service(name: &str) -> Principal {
        Principal {
            employee_id: format!("service:{name}"),
            display_name: name.to_string(),
            department_id: String::new(),
            department_path: String::new(),
            roles: vec!["service".into()],
            permissions: vec!["*".into()],
            scopes: BTreeMap::new(),
            token: String::new(),
        }
        .with_scope_everywhere(Scope::All)
    }

    fn with_scope_everywhere(mut self, scope: Scope) -> Principal {
        self.scopes.insert("*".into(), scope);
        self
    }

    /// The verified caller of a request (put there by [`AuthLayer`]).
    pub fn of<T>(request: &tonic::Request<T>) -> Result<Principal, tonic::Status> {
        request
            .extensions()
            .get::<Principal>()
            .cloned()
            .ok_or_else(|| tonic::Status::unauthenticated("sign in first: no verified caller"))
    }

    /// A request to another service made on this caller's behalf (their token forwarded).
    pub fn forward<T>(&self, message: T) -> crate::Result<tonic::Request<T>> {
        bearer_request(&self.token, message)
    }

    /// The principal of verified token claims.
    pub fn from_claims(claims: token::Claims, token: String) -> Principal {
        Principal {
            employee_id: claims.sub,
            display_name: claims.name,
            department_id: claims.dept,
            department_path: claims.dpath,
            roles: claims.roles,
            permissions: claims.perms,
            // A scope name this build does not know grants nothing beyond own records.
            scopes: claims
                .scopes
                .into_iter()
                .map(|(service, s)| (service, Scope::parse(&s).unwrap_or(Scope::Own)))
                .collect(),
            token,
        }
    }

    /// Whether the caller holds `permission`.
    pub fn has_permission(&self, permission: &str) -> bool {
        self.permissions.iter().any(|g| permission_matches(g, permission))
    }

    /// Fails with PERMISSION_DENIED naming `permission` unless the caller holds it.
    pub fn require(&self, permission: &str) -> crate::Result<()> {
        if self.has_permission(permission) {
            Ok(())
        } else {
            Err(crate::Error::PermissionDenied {
                permission: permission.to_string(),
            })
        }
    }

    /// The caller's data scope in `service`.
    pub fn scope(&self, service: &str) -> Scope {
        self.scopes
            .get(service)
            .or_else(|| self.scopes.get("*"))
            .copied()
            .unwrap_or(Scope::Own)
    }

    /// The SQL condition selecting the rows of `service` the caller may see (placeholders from
    /// `$1`), or `None` when the caller sees every row. Own rows and rows the caller
    /// collaborates on are always in scope. Reads take it through [`ReadScope::of`].
    fn scope_filter(&self, service: &str, columns: ScopeColumns<'_>) -> Option<CompiledFilter> {
        let scope = self.scope(service);
        if scope == Scope::All {
            return None;
        }
        let mut sql = format!("({} = $1", columns.owner);
        let mut params = vec![SqlValue::Text(self.employee_id.clone())];
        if let Some(collaborator) = columns.collaborator {
            sql.push_str(" OR ");
            sql.push_str(collaborator);
        }
        match scope {
            Scope::Own | Scope::All => {}
            // Without a department the caller has no department's records to see.
            _ if self.department_path.is_empty() => {}
            Scope::Department => {
                sql.push_str(&format!(" OR {} = $2", columns.owner_department_path));
                params.push(SqlValue::Text(self.department_path.clone()));
            }
            Scope::DepartmentTree => {
                // Paths are ids joined by `/`; ids never hold LIKE's wildcards, escaped anyway.
                sql.push_str(&format!(" OR {} LIKE $2 ESCAPE '\\'", columns.owner_department_path));
                params.push(SqlValue::Text(format!("{}%", like_escape(&self.department_path))));
            }
        }
        sql.push(')');
        Some(CompiledFilter { sql, params })
    }

    /// Whether a row owned by `owner` in department `owner_department_path` is in the caller's
    /// scope of `service` (collaboration is the caller's to check).
    pub fn covers(&self, service: &str, owner: &str, owner_department_path: &str) -> bool {
        if owner == self.employee_id {
            return true;
        }
        match self.scope(service) {
            Scope::All => true,
            Scope::Own => false,
            _ if self.department_path.is_empty() => false,
            Scope::Department => owner_department_path == self.department_path,
            Scope::DepartmentTree => owner_department_path.starts_with(&self.department_path),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ann(scope: Scope) -> Principal {
        Principal {
            employee_id: "ann".into(),
            display_name: "Ann".into(),
            department_id: "east".into(),
            department_path: "/sales/east/".into(),
            roles: vec![],
            permissions: vec!["customers.*.read".into(), "customers.customer.create".into()],
            scopes: [("customers".to_string(), scope)].into(),
            token: String::new(),
        }
    }

    #[test]
    fn permission_patterns() {
        assert!(permission_matches("*", "identity.role.manage"));
        assert!(permission_matches("customers.*.read", "customers.contact.read"));
        assert!(permission_matches("customers.*.*", "customers.contact.write"));
        assert!(!permission_matches("customers.*.read", "customers.contact.write"));
        assert!(!permission_matches("customers.customer", "customers.customer.read"));
        assert!(!permission_matches(
            "customers.customer.read.x",
            "customers.customer.read"
        ));
        assert!(!permission_matches("sales.*.read", "customers.customer.read"));
        let p = ann(Scope::Own);
        assert!(p.has_permission("customers.customer.read"));
        assert!(p.require("customers.customer.delete").is_err());
    }

    #[test]
    fn scopes_become_predicates() {
        let cols = ScopeColumns {
            owner: "c.owner_id",
            owner_department_path: "c.owner_department_path",
            collaborator: Some("EXISTS (SELECT 1 FROM x WHERE x.employee_id = $1)"),
        };
        assert_eq!(ann(Scope::All).scope_filter("customers", cols), None);
        let rule = ScopeRule {
            service: "customers",
            columns: cols,
            unowned_visible_to: &["customers.customer.read"],
        };
        let pooled = ReadScope::of(&ann(Scope::Own), &rule);
        assert!(
            pooled
                .predicate()
                .unwrap()
                .sql
                .starts_with("(c.owner_id = '' OR (c.owner_id = $1")
        );
        assert_eq!(ReadScope::of(&ann(Scope::All), &rule), ReadScope::everything("test"));
        let own = ann(Scope::Own).scope_filter("customers", cols).unwrap();
        assert_eq!(
            own.sql,
            "(c.owner_id = $1 OR EXISTS (SELECT 1 FROM x WHERE x.employee_id = $1))"
        );
        let tree = ann(Scope::DepartmentTree).scope_filter("customers", cols).unwrap();
        assert!(tree.sql.ends_with(" OR c.owner_department_path LIKE $2 ESCAPE '\\')"));
        assert_eq!(tree.params[1], SqlValue::Text("/sales/east/%".into()));
        // Another service's scope is not this one's.
        assert_eq!(ann(Scope::All).scope("sales"), Scope::Own);
        assert!(ann(Scope::DepartmentTree).covers("customers", "bob", "/sales/east/north/"));
        assert!(!ann(Scope::DepartmentTree).covers("customers", "bob", "/sales/west/"));
        assert!(!ann(Scope::Department).covers("customers", "bob", "/sales/east/north/"));
        assert!(ann(Scope::Own).covers("customers", "ann", ""));
        assert!(Principal::service("customers").covers("sales", "bob", "/x/"));
    }
}
