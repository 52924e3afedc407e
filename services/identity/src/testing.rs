//! A real identity service for other services' tests and benchmarks (feature `testing`): it
//! runs on port 0 over a fresh database with a signing key the test also holds, so a test can
//! both create real employees and mint tokens for any principal, which the service under test
//! verifies exactly as in production (keys fetched from this identity over gRPC).

use std::collections::HashSet;
use std::sync::Mutex;

use base64::Engine as _;
use crm_kit::auth::token::{self, Claims};
use crm_kit::testing::{TestDatabase, TestServer};
use crm_proto::identity as pb;
use crm_proto::identity::identity_service_client::IdentityServiceClient;
use ed25519_dalek::SigningKey;

/// The password every employee made by [`TestIdentity::employee`] gets.
pub const PASSWORD: &str = "test-password-1";

/// A running identity service with a known signing key and one department, `Sales`.
pub struct TestIdentity {
    pub server: TestServer,
    /// The service's database, for a test's own assertions.
    pub database_url: String,
    key: SigningKey,
    kid: String,
    /// The `Sales` department.
    pub department_id: String,
    /// Its path, as tokens and records carry it.
    pub department_path: String,
    made: Mutex<HashSet<String>>,
}

impl std::fmt::Debug for TestIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestIdentity")
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

impl TestIdentity {
    /// Starts identity on `db` and creates the `Sales` department. It asks no service for
    /// handover counts.
    pub async fn start(db: &TestDatabase) -> TestIdentity {
        Self::start_with_peers(db, Vec::new()).await
    }

    /// [`TestIdentity::start`], asking the services at `handover_peers` for handover counts.
    pub async fn start_with_peers(db: &TestDatabase, handover_peers: Vec<String>) -> TestIdentity {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind port 0");
        Self::start_on(listener, db, handover_peers, true).await
    }

    /// Starts identity on `listener` over `db`; with `fresh`, creates the `Sales` department
    /// (without, the database is one an earlier identity used: a restart).
    pub async fn start_on(
        listener: tokio::net::TcpListener,
        db: &TestDatabase,
        handover_peers: Vec<String>,
        fresh: bool,
    ) -> TestIdentity {
        let key = token::generate_key();
        let kid = crate::keys::kid_of(&key.verifying_key());
        let mut config = crate::Config::for_suite(&std::env::temp_dir());
        config.service.database_url = Some(db.url.clone());
        config.service.db_max_connections = 4;
        config.service.metrics_sample_ms = 100;
        config.signing_key = Some(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key.to_bytes()));
        config.admin_password = Some("test-admin-password".into());
        config.handover_peers = handover_peers;
        let mut server = TestServer::start_on(listener, move |listener, shutdown| async move {
            crate::run(config, listener, shutdown)
                .await
                .expect("identity service runs");
        })
        .await;
        server.wait_serving().await;
        let mut identity = TestIdentity {
            server,
            database_url: db.url.clone(),
            key,
            kid,
            department_id: String::new(),
            department_path: String::new(),
            made: Mutex::new(HashSet::new()),
        };
        let admin = identity.token("test-admin", "admin");
        if !fresh {
            let departments = identity
                .client(&admin)
                .await
                .list_departments(pb::ListDepartmentsRequest {})
                .await
                .expect("list departments")
                .into_inner()
                .departments;
            let sales = departments
                .into_iter()
                .find(|d| d.name == "Sales")
                .expect("the Sales department");
            identity.department_id = sales.id;
            identity.department_path = sales.path;
            return identity;
        }
        let department = identity
            .client(&admin)
            .await
            .create_department(pb::CreateDepartmentRequest {
                department: Some(pb::Department {
                    name: "Sales".into(),
                    ..Default::default()
                }),
            })
            .await
            .expect("create the Sales department")
            .into_inner()
            .department
            .expect("department");
        identity.department_id = department.id;
        identity.department_path = department.path;
        identity
    }

    /// `http://127.0.0.1:port`.
    pub fn url(&self) -> String {
        self.server.endpoint()
    }

    /// A token for `employee_id` in the Sales department holding the built-in `role`.
    pub fn token(&self, employee_id: &str, role: &str) -> String {
        self.token_in(employee_id, role, &self.department_id, &self.department_path)
    }

    /// A token for `employee_id` in department `department_id` at `department_path` holding the
    /// built-in `role`, valid for 15 minutes.
    pub fn token_in(&self, employee_id: &str, role: &str, department_id: &str, department_path: &str) -> String {
        self.token_lasting(employee_id, role, department_id, department_path, 900)
    }

    /// Like [`TestIdentity::token_in`], valid for `seconds` (benchmarks outlast 15 minutes).
    pub fn token_lasting(
        &self,
        employee_id: &str,
        role: &str,
        department_id: &str,
        department_path: &str,
        seconds: i64,
    ) -> String {
        let built_in = crate::roles::built_in(role).unwrap_or_else(|| panic!("{role} is not a built-in role"));
        let now = crm_kit::time::now_seconds();
        let claims = Claims {
            iss: crm_kit::auth::ISSUER.into(),
            aud: vec![crm_kit::auth::AUDIENCE.into()],
            sub: employee_id.into(),
            iat: now,
            nbf: now,
            exp: now + seconds,
            jti: crm_kit::new_id(),
            name: employee_id.into(),
            dept: department_id.into(),
            dpath: department_path.into(),
            roles: vec![role.into()],
            perms: built_in.permissions.iter().map(|p| (*p).to_string()).collect(),
            scopes: built_in
                .scopes
                .iter()
                .map(|(s, scope)| ((*s).to_string(), scope.as_str().to_string()))
                .collect(),
        };
        token::sign(&claims, &self.kid, &self.key)
    }

    /// A token for `employee_id` in the Sales department holding exactly `permissions` (no
    /// role, own scope everywhere): a caller lacking whatever else a method needs.
    pub fn token_holding(&self, employee_id: &str, permissions: &[&str]) -> String {
        let now = crm_kit::time::now_seconds();
        let claims = Claims {
            iss: crm_kit::auth::ISSUER.into(),
            aud: vec![crm_kit::auth::AUDIENCE.into()],
            sub: employee_id.into(),
            iat: now,
            nbf: now,
            exp: now + 900,
            jti: crm_kit::new_id(),
            name: employee_id.into(),
            dept: self.department_id.clone(),
            dpath: self.department_path.clone(),
            roles: Vec::new(),
            perms: permissions.iter().map(|p| (*p).to_string()).collect(),
            scopes: Default::default(),
        };
        token::sign(&claims, &self.kid, &self.key)
    }

    /// A client calling identity with `token`.
    pub async fn client(
        &self,
        token: &str,
    ) -> IdentityServiceClient<tonic::service::interceptor::InterceptedService<tonic::transport::Channel, Bearer>> {
        let channel = tonic::transport::Channel::from_shared(self.url())
            .expect("endpoint")
            .connect()
            .await
            .expect("connect to identity");
        IdentityServiceClient::with_interceptor(channel, Bearer::new(token))
    }

    /// Makes sure employee `id` exists (login `id`, built-in `role`, the Sales department).
    pub async fn employee(&self, id: &str, role: &str) {
        if !self.made.lock().expect("made lock").insert(id.to_string()) {
            return;
        }
        let admin = self.token("test-admin", "admin");
        self.client(&admin)
            .await
            .create_employee(pb::CreateEmployeeRequest {
                employee: Some(pb::Employee {
                    login: id.into(),
                    display_name: id.into(),
                    department_id: self.department_id.clone(),
                    role_ids: vec![role.into()],
                    ..Default::default()
                }),
                password: PASSWORD.into(),
                employee_id: id.into(),
                ..Default::default()
            })
            .await
            .unwrap_or_else(|e| panic!("create employee {id}: {e:?}"));
    }
}

/// Sends `authorization: Bearer <token>` on every call.
pub use crm_kit::testing::Bearer;
