//! Starting the service on a fresh database and calling it: clients with any
//! `authorization` header, the administrator signed in, tokens minted with the service's key,
//! and assertions on error details.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use crm_kit::auth::token::{self, Claims, Expectations};
use crm_kit::testing::{TestServer, fresh_database};
use crm_proto::identity as pb;
use crm_proto::identity::identity_service_client::IdentityServiceClient;
use ed25519_dalek::SigningKey;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use tonic::{Code, Status};
use tonic_types::StatusExt;

pub const ADMIN_PASSWORD: &str = "admin-password-1";
pub const PASSWORD: &str = "employee-password-1";

/// Puts an `authorization` header (exactly as given) on every call.
#[derive(Clone, Debug)]
pub struct Auth(Option<String>);

impl tonic::service::Interceptor for Auth {
    fn call(&mut self, mut req: tonic::Request<()>) -> Result<tonic::Request<()>, Status> {
        if let Some(value) = &self.0 {
            let value = value
                .parse()
                .map_err(|_| Status::internal("the test's authorization header is not ASCII"))?;
            req.metadata_mut().insert("authorization", value);
        }
        Ok(req)
    }
}

pub type Client = IdentityServiceClient<InterceptedService<Channel, Auth>>;

/// A running identity service and the key it signs with.
pub struct App {
    /// Kept for its lifetime: dropping it stops the service.
    _server: TestServer,
    pub channel: Channel,
    pub key: SigningKey,
    pub kid: String,
    pub database_url: String,
}

/// The administrator, signed in.
pub struct Admin {
    pub client: Client,
    pub tokens: pb::Tokens,
    pub employee: pb::Employee,
}

/// Starts the service on a fresh database with a known signing key and admin password.
pub async fn spawn() -> App {
    let db = fresh_database("identity").await;
    let key = token::generate_key();
    let mut config = crm_identity::Config::for_suite(&std::env::temp_dir());
    config.service.database_url = Some(db.url.clone());
    config.admin_password = Some(ADMIN_PASSWORD.into());
    config.signing_key = Some(URL_SAFE_NO_PAD.encode(key.to_bytes()));
    let server = TestServer::start(move |listener, shutdown| async move {
        crm_identity::run(config, listener, shutdown)
            .await
            .expect("identity service runs");
    })
    .await;
    let channel = Channel::from_shared(server.endpoint())
        .expect("endpoint")
        .connect()
        .await
        .expect("connect");
    App {
        _server: server,
        channel,
        kid: crm_identity::keys::kid_of(&key.verifying_key()),
        key,
        database_url: db.url,
    }
}

impl App {
    /// A client sending `authorization: <header>` exactly.
    pub fn with_header(&self, header: Option<String>) -> Client {
        IdentityServiceClient::with_interceptor(self.channel.clone(), Auth(header))
    }

    /// A client without any token.
    pub fn anonymous(&self) -> Client {
        self.with_header(None)
    }

    /// A client calling with `access_token`.
    pub fn client(&self, access_token: &str) -> Client {
        self.with_header(Some(format!("Bearer {access_token}")))
    }

    pub async fn sign_in(&self, login: &str, password: &str) -> Result<pb::SignInResponse, Status> {
        self.anonymous()
            .sign_in(pb::SignInRequest {
                login: login.into(),
                password: password.into(),
            })
            .await
            .map(tonic::Response::into_inner)
    }

    /// Signs in and returns the tokens.
    pub async fn tokens(&self, login: &str, password: &str) -> pb::Tokens {
        self.sign_in(login, password)
            .await
            .unwrap_or_else(|s| panic!("{login} signs in: {s:?}"))
            .tokens
            .expect("tokens")
    }

    pub async fn admin(&self) -> Admin {
        let signed = self.sign_in("admin", ADMIN_PASSWORD).await.expect("admin signs in");
        let tokens = signed.tokens.expect("tokens");
        Admin {
            client: self.client(&tokens.access_token),
            tokens,
            employee: signed.employee.expect("employee"),
        }
    }

    /// Valid claims for `sub`, as identity would issue them.
    pub fn claims(&self, sub: &str) -> Claims {
        let now = crm_kit::time::now_seconds();
        Claims {
            iss: crm_kit::auth::ISSUER.into(),
            aud: vec![crm_kit::auth::AUDIENCE.into()],
            sub: sub.into(),
            iat: now,
            nbf: now,
            exp: now + 600,
            jti: crm_kit::new_id(),
            name: "Minted".into(),
            dept: String::new(),
            dpath: String::new(),
            roles: vec!["salesperson".into()],
            perms: vec!["identity.employee.read".into()],
            scopes: Default::default(),
        }
    }

    /// A token signed with the service's configured key.
    pub fn mint(&self, claims: &Claims) -> String {
        token::sign(claims, &self.kid, &self.key)
    }

    /// The published key set.
    pub async fn key_set(&self) -> pb::GetKeySetResponse {
        self.anonymous()
            .get_key_set(pb::GetKeySetRequest {})
            .await
            .expect("key set")
            .into_inner()
    }
}

/// Verifies `access_token` with the published key set, as another service would.
pub fn verify_with(set: &pb::GetKeySetResponse, access_token: &str) -> Result<Claims, token::TokenError> {
    let expect = Expectations {
        issuer: set.issuer.clone(),
        audience: set.audience.clone(),
    };
    token::verify(
        access_token,
        |kid| {
            set.keys
                .iter()
                .find(|k| k.kid == kid)
                .and_then(|k| token::decode_public_key(&k.public_key))
        },
        &expect,
        crm_kit::time::now_seconds(),
    )
}

pub fn employee(login: &str, department_id: &str, role_ids: &[&str]) -> pb::Employee {
    pb::Employee {
        login: login.into(),
        display_name: format!("Employee {login}"),
        department_id: department_id.into(),
        role_ids: role_ids.iter().map(|r| r.to_string()).collect(),
        ..Default::default()
    }
}

pub async fn create_employee(admin: &mut Client, login: &str, department_id: &str, role_ids: &[&str]) -> pb::Employee {
    admin
        .create_employee(pb::CreateEmployeeRequest {
            employee: Some(employee(login, department_id, role_ids)),
            password: PASSWORD.into(),
            ..Default::default()
        })
        .await
        .unwrap_or_else(|s| panic!("create {login}: {s:?}"))
        .into_inner()
        .employee
        .expect("employee")
}

pub async fn get_employee(client: &mut Client, id: &str) -> pb::Employee {
    client
        .get_employee(pb::GetEmployeeRequest { id: id.into() })
        .await
        .expect("get employee")
        .into_inner()
        .employee
        .expect("employee")
}

pub async fn create_department(admin: &mut Client, name: &str, parent_id: &str) -> pb::Department {
    admin
        .create_department(pb::CreateDepartmentRequest {
            department: Some(pb::Department {
                name: name.into(),
                parent_id: parent_id.into(),
                ..Default::default()
            }),
        })
        .await
        .unwrap_or_else(|s| panic!("create department {name}: {s:?}"))
        .into_inner()
        .department
        .expect("department")
}

pub async fn departments(client: &mut Client) -> Vec<pb::Department> {
    client
        .list_departments(pb::ListDepartmentsRequest {})
        .await
        .expect("list departments")
        .into_inner()
        .departments
}

pub async fn department(client: &mut Client, id: &str) -> pb::Department {
    departments(client)
        .await
        .into_iter()
        .find(|d| d.id == id)
        .unwrap_or_else(|| panic!("department {id} listed"))
}

pub async fn role(client: &mut Client, id: &str) -> pb::Role {
    client
        .list_roles(pb::ListRolesRequest {})
        .await
        .expect("list roles")
        .into_inner()
        .roles
        .into_iter()
        .find(|r| r.id == id)
        .unwrap_or_else(|| panic!("role {id} listed"))
}

pub async fn current(client: &mut Client) -> Result<pb::GetCurrentEmployeeResponse, Status> {
    client
        .get_current_employee(pb::GetCurrentEmployeeRequest {})
        .await
        .map(tonic::Response::into_inner)
}

pub fn mask(paths: &[&str]) -> Option<prost_types::FieldMask> {
    Some(prost_types::FieldMask {
        paths: paths.iter().map(|p| p.to_string()).collect(),
    })
}

/// Asserts the error code; returns the status.
#[track_caller]
pub fn assert_code<T: std::fmt::Debug>(result: Result<T, Status>, code: Code) -> Status {
    let status = result.expect_err("expected an error");
    assert_eq!(status.code(), code, "{status:?}");
    status
}

/// Asserts the code and the ErrorInfo reason; returns the status.
#[track_caller]
pub fn assert_reason<T: std::fmt::Debug>(result: Result<T, Status>, code: Code, reason: &str) -> Status {
    let status = assert_code(result, code);
    let info = status
        .get_details_error_info()
        .unwrap_or_else(|| panic!("no ErrorInfo in {status:?}"));
    assert_eq!(info.reason, reason, "{status:?}");
    status
}

/// Asserts the code and a BadRequest violation of `field` with `reason`; returns the status.
#[track_caller]
pub fn assert_field<T: std::fmt::Debug>(result: Result<T, Status>, code: Code, field: &str, reason: &str) -> Status {
    let status = assert_code(result, code);
    let bad = status
        .get_details_bad_request()
        .unwrap_or_else(|| panic!("no BadRequest details in {status:?}"));
    assert!(
        bad.field_violations
            .iter()
            .any(|v| v.field == field && v.reason == reason),
        "no {reason} violation of {field} in {:?}",
        bad.field_violations
    );
    status
}

pub fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn logins(pages: &[Vec<pb::Employee>]) -> Vec<String> {
    pages.iter().flatten().map(|e| e.login.clone()).collect()
}
