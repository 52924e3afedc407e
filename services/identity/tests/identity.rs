//! Identity service API tests: the real service over gRPC on a fresh database (a SQLite file, or
//! a new PostgreSQL database when `CRM_TEST_POSTGRES_URL` is set), called with real tokens.
//!
//! Each test starts its own service with a configured signing key and administrator password,
//! so it can sign in as the administrator and mint (or forge) tokens with the same key.

use std::collections::BTreeSet;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use crm_kit::auth::token::{self, Claims, Expectations};
use crm_kit::testing::{TestServer, fresh_database};
use crm_proto::identity as pb;
use crm_proto::identity::identity_service_client::IdentityServiceClient;
use ed25519_dalek::SigningKey;
use sha2::Digest as _;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use tonic::{Code, Status};
use tonic_types::StatusExt;

const ADMIN_PASSWORD: &str = "admin-password-1";
const PASSWORD: &str = "employee-password-1";

// ---------------------------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------------------------

/// Puts an `authorization` header (exactly as given) on every call.
#[derive(Clone, Debug)]
struct Auth(Option<String>);

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

type Client = IdentityServiceClient<InterceptedService<Channel, Auth>>;

/// A running identity service and the key it signs with.
struct App {
    /// Kept for its lifetime: dropping it stops the service.
    _server: TestServer,
    channel: Channel,
    key: SigningKey,
    kid: String,
    database_url: String,
}

/// The administrator, signed in.
struct Admin {
    client: Client,
    tokens: pb::Tokens,
    employee: pb::Employee,
}

/// Starts the service on a fresh database with a known signing key and admin password.
async fn spawn() -> App {
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
    fn with_header(&self, header: Option<String>) -> Client {
        IdentityServiceClient::with_interceptor(self.channel.clone(), Auth(header))
    }

    /// A client without any token.
    fn anonymous(&self) -> Client {
        self.with_header(None)
    }

    /// A client calling with `access_token`.
    fn client(&self, access_token: &str) -> Client {
        self.with_header(Some(format!("Bearer {access_token}")))
    }

    async fn sign_in(&self, login: &str, password: &str) -> Result<pb::SignInResponse, Status> {
        self.anonymous()
            .sign_in(pb::SignInRequest {
                login: login.into(),
                password: password.into(),
            })
            .await
            .map(tonic::Response::into_inner)
    }

    /// Signs in and returns the tokens.
    async fn tokens(&self, login: &str, password: &str) -> pb::Tokens {
        self.sign_in(login, password)
            .await
            .unwrap_or_else(|s| panic!("{login} signs in: {s:?}"))
            .tokens
            .expect("tokens")
    }

    async fn admin(&self) -> Admin {
        let signed = self.sign_in("admin", ADMIN_PASSWORD).await.expect("admin signs in");
        let tokens = signed.tokens.expect("tokens");
        Admin {
            client: self.client(&tokens.access_token),
            tokens,
            employee: signed.employee.expect("employee"),
        }
    }

    /// Valid claims for `sub`, as identity would issue them.
    fn claims(&self, sub: &str) -> Claims {
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
    fn mint(&self, claims: &Claims) -> String {
        token::sign(claims, &self.kid, &self.key)
    }

    /// The published key set.
    async fn key_set(&self) -> pb::GetKeySetResponse {
        self.anonymous()
            .get_key_set(pb::GetKeySetRequest {})
            .await
            .expect("key set")
            .into_inner()
    }
}

/// Verifies `access_token` with the published key set, as another service would.
fn verify_with(set: &pb::GetKeySetResponse, access_token: &str) -> Result<Claims, token::TokenError> {
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

fn employee(login: &str, department_id: &str, role_ids: &[&str]) -> pb::Employee {
    pb::Employee {
        login: login.into(),
        display_name: format!("Employee {login}"),
        department_id: department_id.into(),
        role_ids: role_ids.iter().map(|r| r.to_string()).collect(),
        ..Default::default()
    }
}

async fn create_employee(admin: &mut Client, login: &str, department_id: &str, role_ids: &[&str]) -> pb::Employee {
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

async fn get_employee(client: &mut Client, id: &str) -> pb::Employee {
    client
        .get_employee(pb::GetEmployeeRequest { id: id.into() })
        .await
        .expect("get employee")
        .into_inner()
        .employee
        .expect("employee")
}

async fn create_department(admin: &mut Client, name: &str, parent_id: &str) -> pb::Department {
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

async fn departments(client: &mut Client) -> Vec<pb::Department> {
    client
        .list_departments(pb::ListDepartmentsRequest {})
        .await
        .expect("list departments")
        .into_inner()
        .departments
}

async fn department(client: &mut Client, id: &str) -> pb::Department {
    departments(client)
        .await
        .into_iter()
        .find(|d| d.id == id)
        .unwrap_or_else(|| panic!("department {id} listed"))
}

async fn role(client: &mut Client, id: &str) -> pb::Role {
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

async fn current(client: &mut Client) -> Result<pb::GetCurrentEmployeeResponse, Status> {
    client
        .get_current_employee(pb::GetCurrentEmployeeRequest {})
        .await
        .map(tonic::Response::into_inner)
}

fn mask(paths: &[&str]) -> Option<prost_types::FieldMask> {
    Some(prost_types::FieldMask {
        paths: paths.iter().map(|p| p.to_string()).collect(),
    })
}

/// Asserts the error code; returns the status.
#[track_caller]
fn assert_code<T: std::fmt::Debug>(result: Result<T, Status>, code: Code) -> Status {
    let status = result.expect_err("expected an error");
    assert_eq!(status.code(), code, "{status:?}");
    status
}

/// Asserts the code and the ErrorInfo reason; returns the status.
#[track_caller]
fn assert_reason<T: std::fmt::Debug>(result: Result<T, Status>, code: Code, reason: &str) -> Status {
    let status = assert_code(result, code);
    let info = status
        .get_details_error_info()
        .unwrap_or_else(|| panic!("no ErrorInfo in {status:?}"));
    assert_eq!(info.reason, reason, "{status:?}");
    status
}

/// Asserts the code and a BadRequest violation of `field` with `reason`; returns the status.
#[track_caller]
fn assert_field<T: std::fmt::Debug>(result: Result<T, Status>, code: Code, field: &str, reason: &str) -> Status {
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

/// A codec for calling any method with an empty (all-default) request. A response is not
/// decoded: every call made with it is expected to fail.
#[derive(Debug, Clone, Copy, Default)]
struct EmptyCodec;

impl tonic::codec::Codec for EmptyCodec {
    type Encode = ();
    type Decode = ();
    type Encoder = EmptyCodec;
    type Decoder = EmptyCodec;
    fn encoder(&mut self) -> EmptyCodec {
        EmptyCodec
    }
    fn decoder(&mut self) -> EmptyCodec {
        EmptyCodec
    }
}

impl tonic::codec::Encoder for EmptyCodec {
    type Item = ();
    type Error = Status;
    fn encode(&mut self, _item: (), _dst: &mut tonic::codec::EncodeBuf<'_>) -> Result<(), Status> {
        Ok(())
    }
}

impl tonic::codec::Decoder for EmptyCodec {
    type Item = ();
    type Error = Status;
    fn decode(&mut self, _src: &mut tonic::codec::DecodeBuf<'_>) -> Result<Option<()>, Status> {
        Ok(Some(()))
    }
}

/// Calls `path` with an empty request and an optional `authorization` header.
async fn call_empty(channel: &Channel, path: &'static str, authorization: Option<&str>) -> Result<(), Status> {
    let mut grpc = tonic::client::Grpc::new(channel.clone());
    grpc.ready()
        .await
        .map_err(|e| Status::unavailable(format!("not ready: {e}")))?;
    let mut request = tonic::Request::new(());
    if let Some(value) = authorization {
        request
            .metadata_mut()
            .insert("authorization", value.parse().expect("ascii header"));
    }
    grpc.unary(
        request,
        tonic::codegen::http::uri::PathAndQuery::from_static(path),
        EmptyCodec,
    )
    .await
    .map(|_: tonic::Response<()>| ())
}

/// HMAC-SHA256 (RFC 2104), to forge HS256 tokens.
fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&sha2::Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let ipad: Vec<u8> = block.iter().map(|b| b ^ 0x36).collect();
    let opad: Vec<u8> = block.iter().map(|b| b ^ 0x5c).collect();
    let inner = sha2::Sha256::new().chain_update(&ipad).chain_update(message).finalize();
    let outer = sha2::Sha256::new().chain_update(&opad).chain_update(inner).finalize();
    let mut out = [0u8; 32];
    out.copy_from_slice(&outer);
    out
}

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn ts_micros(ts: &prost_types::Timestamp) -> i64 {
    ts.seconds * 1_000_000 + i64::from(ts.nanos) / 1000
}

// ---------------------------------------------------------------------------------------------
// 1. First start
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn first_start_seeds_an_admin_whose_token_verifies_with_the_published_key_set() {
    let app = spawn().await;
    let signed = app.sign_in("admin", ADMIN_PASSWORD).await.expect("admin signs in");
    let tokens = signed.tokens.expect("tokens");
    let admin = signed.employee.expect("employee");
    assert_eq!(admin.login, "admin");
    assert_eq!(admin.role_ids, ["admin"]);
    assert_eq!(admin.status, pb::EmployeeStatus::Active as i32);
    assert_eq!(tokens.token_type, "Bearer");
    assert!(!tokens.access_token.is_empty() && !tokens.refresh_token.is_empty());
    assert_ne!(tokens.access_token, tokens.refresh_token);

    let me = current(&mut app.client(&tokens.access_token))
        .await
        .expect("current employee");
    assert_eq!(me.employee.as_ref().map(|e| e.id.as_str()), Some(admin.id.as_str()));
    assert!(me.permissions.iter().any(|p| p == "*"), "{:?}", me.permissions);
    assert!(
        me.scopes
            .iter()
            .any(|s| s.service == "*" && s.scope == pb::DataScope::All as i32),
        "{:?}",
        me.scopes
    );

    let set = app.key_set().await;
    assert_eq!(set.issuer, crm_kit::auth::ISSUER);
    assert_eq!(set.audience, crm_kit::auth::AUDIENCE);
    let published = set
        .keys
        .iter()
        .find(|k| k.kid == app.kid)
        .expect("the configured key is published");
    assert_eq!(published.algorithm, "EdDSA");
    assert_eq!(published.public_key, b64(app.key.verifying_key().as_bytes()));
    assert!(published.retire_time.is_none(), "the configured key is current");
    assert_eq!(token::key_id(&tokens.access_token).as_deref(), Ok(app.kid.as_str()));

    let claims = verify_with(&set, &tokens.access_token).expect("the access token verifies with the key set");
    assert_eq!(claims.sub, admin.id);
    assert_eq!(claims.iss, set.issuer);
    assert_eq!(claims.aud, [set.audience.as_str()]);
    assert_eq!(claims.perms, ["*"]);
    assert_eq!(claims.roles, ["admin"]);
    assert_eq!(claims.exp - claims.iat, 15 * 60, "access tokens live 15 minutes");
    assert_eq!(
        tokens.access_token_expire_time.as_ref().map(|t| t.seconds),
        Some(claims.exp)
    );
    // Another issuer's expectations refuse it.
    let mut other = set.clone();
    other.audience = "another-app".into();
    assert_eq!(
        verify_with(&other, &tokens.access_token),
        Err(token::TokenError::WrongAudience)
    );
}

// ---------------------------------------------------------------------------------------------
// 2. Sign-in failures and lockout
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn wrong_password_and_unknown_login_look_alike_and_five_failures_lock_until_reset() {
    let app = spawn().await;
    let mut admin = app.admin().await;
    let ann = create_employee(
        &mut admin.client,
        "ann",
        &admin.employee.department_id,
        &["salesperson"],
    )
    .await;

    let wrong = app
        .sign_in("ann", "not-her-password")
        .await
        .expect_err("wrong password");
    let unknown = app
        .sign_in("nobody-by-that-name", "not-her-password")
        .await
        .expect_err("unknown login");
    assert_eq!(wrong.code(), Code::Unauthenticated, "{wrong:?}");
    assert_eq!(unknown.code(), wrong.code());
    assert_eq!(unknown.message(), wrong.message());
    assert_eq!(
        unknown.get_details_error_info().map(|i| i.reason),
        wrong.get_details_error_info().map(|i| i.reason)
    );
    assert_reason::<()>(Err(wrong), Code::Unauthenticated, "INVALID_CREDENTIALS");

    // Failures two to four are plain refusals.
    for attempt in 2..5 {
        let status = assert_reason(
            app.sign_in("ann", &format!("wrong-{attempt}")).await,
            Code::Unauthenticated,
            "INVALID_CREDENTIALS",
        );
        assert_eq!(status.message(), unknown.message());
    }
    // The fifth locks.
    let locked = assert_reason(
        app.sign_in("ann", "wrong-5").await,
        Code::Unauthenticated,
        "ACCOUNT_LOCKED",
    );
    let unlock_time = locked
        .get_details_error_info()
        .and_then(|i| i.metadata.get("unlock_time").cloned())
        .expect("unlock_time in the ErrorInfo metadata");
    let stored = get_employee(&mut admin.client, &ann.id).await;
    let until = stored.locked_until.as_ref().expect("the employee shows the lock");
    assert_eq!(unlock_time, crm_kit::time::format_rfc3339(ts_micros(until)));
    let minutes = (ts_micros(until) - crm_kit::time::now_micros()) / 60_000_000;
    assert!(
        (13..=15).contains(&minutes),
        "locked for about 15 minutes, not {minutes}"
    );

    // The right password is refused while locked, with the same unlock time.
    let right = assert_reason(
        app.sign_in("ann", PASSWORD).await,
        Code::Unauthenticated,
        "ACCOUNT_LOCKED",
    );
    assert_eq!(
        right
            .get_details_error_info()
            .and_then(|i| i.metadata.get("unlock_time").cloned()),
        Some(unlock_time)
    );

    // An administrator's reset unlocks (and replaces the password).
    admin
        .client
        .reset_password(pb::ResetPasswordRequest {
            id: ann.id.clone(),
            new_password: "a-fresh-password-2".into(),
        })
        .await
        .expect("reset password");
    assert!(get_employee(&mut admin.client, &ann.id).await.locked_until.is_none());
    let signed = app
        .sign_in("ANN", "a-fresh-password-2")
        .await
        .expect("unlocked, and logins ignore case");
    assert_eq!(signed.employee.map(|e| e.id), Some(ann.id.clone()));
    assert_reason(
        app.sign_in("ann", PASSWORD).await,
        Code::Unauthenticated,
        "INVALID_CREDENTIALS",
    );
}

#[tokio::test]
async fn a_lock_committed_while_the_right_password_is_checked_still_refuses_the_sign_in() {
    let app = spawn().await;
    let mut admin = app.admin().await;
    let ann = create_employee(&mut admin.client, "ann", &admin.employee.department_id, &[]).await;

    // Failed sign-ins running alongside lock the account after this sign-in has looked at the
    // lock and while it checks the password: here the lock is written by a transaction that
    // commits only once the sign-in is under way (and holds the row, or the SQLite write lock,
    // until then).
    let db = crm_kit::db::Db::connect(&app.database_url, 1)
        .await
        .expect("connect test database");
    let mut racing = db.begin_write().await.expect("begin");
    let until = crm_kit::time::now_micros() + 15 * 60 * 1_000_000;
    sqlx::query("UPDATE employees SET locked_until = $1, failed_sign_ins = 0 WHERE id = $2")
        .bind(until)
        .bind(&ann.id)
        .execute(&mut *racing)
        .await
        .expect("lock ann");
    let channel = app.channel.clone();
    let sign_in = tokio::spawn(async move {
        IdentityServiceClient::new(channel)
            .sign_in(pb::SignInRequest {
                login: "ann".into(),
                password: PASSWORD.into(),
            })
            .await
            .map(tonic::Response::into_inner)
    });
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    racing.commit().await.expect("commit the lock");
    let status = assert_reason(
        sign_in.await.expect("sign-in task"),
        Code::Unauthenticated,
        "ACCOUNT_LOCKED",
    );
    assert_eq!(
        status
            .get_details_error_info()
            .and_then(|i| i.metadata.get("unlock_time").cloned()),
        Some(crm_kit::time::format_rfc3339(until))
    );
    db.pool.close().await;
}

// ---------------------------------------------------------------------------------------------
// 3. Refresh-token rotation
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn refresh_rotates_and_a_reused_refresh_token_revokes_the_whole_sign_in() {
    let app = spawn().await;
    let mut anon = app.anonymous();
    let refresh = |token: &str| pb::RefreshTokenRequest {
        refresh_token: token.into(),
    };
    let first = app.tokens("admin", ADMIN_PASSWORD).await;
    let second = anon
        .refresh_token(refresh(&first.refresh_token))
        .await
        .expect("refresh")
        .into_inner()
        .tokens
        .expect("tokens");
    assert_ne!(second.refresh_token, first.refresh_token);
    assert_ne!(second.access_token, first.access_token);
    current(&mut app.client(&second.access_token))
        .await
        .expect("the refreshed access token works");
    let third = anon
        .refresh_token(refresh(&second.refresh_token))
        .await
        .expect("refresh again")
        .into_inner()
        .tokens
        .expect("tokens");

    // Another sign-in is a separate family.
    let other = app.tokens("admin", ADMIN_PASSWORD).await;

    // The first token again: reuse, and the whole sign-in ends.
    assert_reason(
        anon.refresh_token(refresh(&first.refresh_token)).await,
        Code::Unauthenticated,
        "REFRESH_TOKEN_REUSED",
    );
    assert_reason(
        anon.refresh_token(refresh(&third.refresh_token)).await,
        Code::Unauthenticated,
        "INVALID_REFRESH_TOKEN",
    );
    assert_code(
        anon.refresh_token(refresh(&second.refresh_token)).await,
        Code::Unauthenticated,
    );

    // The other sign-in is untouched; signing it out revokes it.
    let other2 = anon
        .refresh_token(refresh(&other.refresh_token))
        .await
        .expect("the other sign-in still refreshes")
        .into_inner()
        .tokens
        .expect("tokens");
    anon.sign_out(pb::SignOutRequest {
        refresh_token: other2.refresh_token.clone(),
    })
    .await
    .expect("sign out");
    assert_reason(
        anon.refresh_token(refresh(&other2.refresh_token)).await,
        Code::Unauthenticated,
        "INVALID_REFRESH_TOKEN",
    );

    // Made-up and missing tokens.
    assert_reason(
        anon.refresh_token(refresh("made-up-refresh-token")).await,
        Code::Unauthenticated,
        "INVALID_REFRESH_TOKEN",
    );
    assert_field(
        anon.refresh_token(refresh("")).await,
        Code::InvalidArgument,
        "refresh_token",
        "REQUIRED",
    );
    // Signing out an unknown token says nothing.
    anon.sign_out(pb::SignOutRequest {
        refresh_token: "made-up-refresh-token".into(),
    })
    .await
    .expect("sign out of an unknown token");
}

// ---------------------------------------------------------------------------------------------
// 4. Deactivation
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn deactivation_revokes_refresh_tokens_at_once_and_refuses_sign_in() {
    let app = spawn().await;
    let mut admin = app.admin().await;
    let admin_id = admin.employee.id.clone();
    let sales = create_department(&mut admin.client, "Sales", "").await;
    let sam = create_employee(&mut admin.client, "sam", &sales.id, &["salesperson"]).await;
    let sam_tokens = app.tokens("sam", PASSWORD).await;

    let deactivate = |successor: &str| pb::DeactivateEmployeeRequest {
        id: sam.id.clone(),
        successor_id: successor.into(),
        dry_run: false,
    };
    assert_field(
        admin.client.deactivate_employee(deactivate("")).await,
        Code::InvalidArgument,
        "successor_id",
        "REQUIRED",
    );
    assert_field(
        admin.client.deactivate_employee(deactivate(&sam.id)).await,
        Code::InvalidArgument,
        "successor_id",
        "SELF",
    );
    assert_field(
        admin.client.deactivate_employee(deactivate("no-such-employee")).await,
        Code::InvalidArgument,
        "successor_id",
        "UNKNOWN_EMPLOYEE",
    );
    assert_eq!(
        get_employee(&mut admin.client, &sam.id).await.status,
        pb::EmployeeStatus::Active as i32,
        "refused deactivations change nothing"
    );

    let done = admin
        .client
        .deactivate_employee(deactivate(&admin_id))
        .await
        .expect("deactivate")
        .into_inner()
        .employee
        .expect("employee");
    assert_eq!(done.status, pb::EmployeeStatus::Deactivated as i32);

    // The leaver's unexpired access token is refused at once here (identity's verifier reads
    // its own revocations), and listed for every other verifier.
    assert_reason(
        app.client(&sam_tokens.access_token)
            .get_current_employee(pb::GetCurrentEmployeeRequest {})
            .await,
        Code::Unauthenticated,
        "ACCOUNT_DEACTIVATED",
    );
    let revocations = app
        .anonymous()
        .list_revocations(pb::ListRevocationsRequest {})
        .await
        .expect("revocations")
        .into_inner()
        .revocations;
    assert_eq!(revocations.len(), 1, "{revocations:?}");
    assert_eq!(revocations[0].employee_id, sam.id);
    assert_eq!(revocations[0].reason, "deactivated");
    let issued_at = token_claims(&sam_tokens.access_token).iat;
    assert!(revocations[0].revoke_time.as_ref().expect("revoke time").seconds >= issued_at);
    // Everyone else's tokens still work.
    admin
        .client
        .get_current_employee(pb::GetCurrentEmployeeRequest {})
        .await
        .expect("the administrator's token works");

    assert_reason(
        app.anonymous()
            .refresh_token(pb::RefreshTokenRequest {
                refresh_token: sam_tokens.refresh_token.clone(),
            })
            .await,
        Code::Unauthenticated,
        "INVALID_REFRESH_TOKEN",
    );
    assert_reason(
        app.sign_in("sam", PASSWORD).await,
        Code::Unauthenticated,
        "ACCOUNT_DEACTIVATED",
    );
    // Once is enough; a deactivated employee succeeds nobody.
    assert_reason(
        admin.client.deactivate_employee(deactivate(&admin_id)).await,
        Code::FailedPrecondition,
        "NOT_ACTIVE",
    );
    assert_field(
        admin
            .client
            .deactivate_employee(pb::DeactivateEmployeeRequest {
                id: admin_id.clone(),
                successor_id: sam.id.clone(),
                dry_run: false,
            })
            .await,
        Code::InvalidArgument,
        "successor_id",
        "UNKNOWN_EMPLOYEE",
    );
}

#[tokio::test]
async fn a_password_reset_voids_the_old_tokens_and_the_new_sign_in_works() {
    let app = spawn().await;
    let mut admin = app.admin().await;
    let sales = create_department(&mut admin.client, "Sales", "").await;
    let sam = create_employee(&mut admin.client, "sam", &sales.id, &["salesperson"]).await;
    let old = app.tokens("sam", PASSWORD).await;
    let mut sam_client = app.client(&old.access_token);
    sam_client
        .get_current_employee(pb::GetCurrentEmployeeRequest {})
        .await
        .expect("works before the reset");
    admin
        .client
        .reset_password(pb::ResetPasswordRequest {
            id: sam.id.clone(),
            new_password: "a-new-password-2".into(),
        })
        .await
        .expect("reset");
    assert_reason(
        sam_client.get_current_employee(pb::GetCurrentEmployeeRequest {}).await,
        Code::Unauthenticated,
        "TOKEN_REVOKED",
    );
    // Signed in again (within the same second, too), the new token works.
    let new = app.tokens("sam", "a-new-password-2").await;
    assert!(token_claims(&new.access_token).iat > token_claims(&old.access_token).iat);
    app.client(&new.access_token)
        .get_current_employee(pb::GetCurrentEmployeeRequest {})
        .await
        .expect("the new sign-in's token works");
}

/// The claims of a token, unverified (the test's own).
fn token_claims(access_token: &str) -> Claims {
    let payload = access_token.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("claims")
}

// ---------------------------------------------------------------------------------------------
// 5. Authorization
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn every_protected_method_needs_a_token_and_a_salesperson_lacks_admin_permissions() {
    let app = spawn().await;
    let methods: Vec<&crm_proto::MethodAccess> = crm_proto::METHOD_ACCESS
        .iter()
        .filter(|m| m.path.starts_with("/crm.identity.v1."))
        .collect();
    let public: BTreeSet<&str> = methods.iter().filter(|m| m.public).map(|m| m.path).collect();
    assert_eq!(
        public,
        BTreeSet::from([
            "/crm.identity.v1.IdentityService/GetKeySet",
            "/crm.identity.v1.IdentityService/IssueServiceToken",
            "/crm.identity.v1.IdentityService/ListRevocations",
            "/crm.identity.v1.IdentityService/RefreshToken",
            "/crm.identity.v1.IdentityService/SignIn",
            "/crm.identity.v1.IdentityService/SignOut",
        ]),
        "only sign-in, refresh, sign-out, the key set, the revocations and service tokens (against the service secret) are public"
    );
    let protected: Vec<&str> = methods.iter().filter(|m| !m.public).map(|m| m.path).collect();
    assert!(protected.len() >= 18, "{protected:?}");
    for path in protected.iter().copied() {
        for header in [None, Some("Bearer not-a-token"), Some("Bearer ")] {
            let status = call_empty(&app.channel, path, header)
                .await
                .expect_err("a protected method refuses");
            assert_eq!(
                status.code(),
                Code::Unauthenticated,
                "{path} with {header:?}: {status:?}"
            );
        }
    }
    // The same harness reaches a public method's handler without a token: an empty sign-in is
    // refused for its missing fields, not for the missing token.
    let status = call_empty(&app.channel, "/crm.identity.v1.IdentityService/SignIn", None)
        .await
        .expect_err("an empty sign-in is refused");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");

    // A salesperson.
    let mut admin = app.admin().await;
    let admin_id = admin.employee.id.clone();
    let sam = create_employee(
        &mut admin.client,
        "sam",
        &admin.employee.department_id,
        &["salesperson"],
    )
    .await;
    let sam_tokens = app.tokens("sam", PASSWORD).await;
    let mut as_sam = app.client(&sam_tokens.access_token);

    let permission_of = |path: &str| {
        crm_proto::method_access(path)
            .map(|m| m.permission)
            .expect("method in the table")
    };
    let denied = |result: Result<(), Status>, method: &str, permission: &str| {
        let path = format!("/crm.identity.v1.IdentityService/{method}");
        assert_eq!(
            permission_of(&path),
            permission,
            "{method}'s permission in the contract"
        );
        let status = assert_reason(result, Code::PermissionDenied, "PERMISSION_DENIED");
        let info = status.get_details_error_info().expect("ErrorInfo");
        assert_eq!(
            info.metadata.get("permission").map(String::as_str),
            Some(permission),
            "{method}: {status:?}"
        );
    };
    denied(
        as_sam
            .create_employee(pb::CreateEmployeeRequest {
                employee: Some(employee("sams-friend", &admin.employee.department_id, &["admin"])),
                password: PASSWORD.into(),
                ..Default::default()
            })
            .await
            .map(drop),
        "CreateEmployee",
        "identity.employee.create",
    );
    denied(
        as_sam
            .create_role(pb::CreateRoleRequest {
                role: Some(pb::Role {
                    name: "everything".into(),
                    permissions: vec!["*".into()],
                    ..Default::default()
                }),
            })
            .await
            .map(drop),
        "CreateRole",
        "identity.role.manage",
    );
    denied(
        as_sam
            .rotate_signing_key(pb::RotateSigningKeyRequest {})
            .await
            .map(drop),
        "RotateSigningKey",
        "identity.key.rotate",
    );
    denied(
        as_sam
            .reset_password(pb::ResetPasswordRequest {
                id: admin_id.clone(),
                new_password: "taken-over-password".into(),
            })
            .await
            .map(drop),
        "ResetPassword",
        "identity.employee.reset_password",
    );
    denied(
        as_sam
            .update_employee(pb::UpdateEmployeeRequest {
                employee: Some(pb::Employee {
                    id: sam.id.clone(),
                    role_ids: vec!["admin".into()],
                    etag: sam.etag.clone(),
                    ..Default::default()
                }),
                update_mask: mask(&["role_ids"]),
            })
            .await
            .map(drop),
        "UpdateEmployee",
        "identity.employee.update",
    );
    denied(
        as_sam
            .deactivate_employee(pb::DeactivateEmployeeRequest {
                id: admin_id.clone(),
                successor_id: sam.id.clone(),
                dry_run: false,
            })
            .await
            .map(drop),
        "DeactivateEmployee",
        "identity.employee.deactivate",
    );
    // None of it happened.
    app.sign_in("admin", ADMIN_PASSWORD)
        .await
        .expect("the admin's password is unchanged");
    let me = current(&mut as_sam).await.expect("a salesperson reads themself");
    assert_eq!(
        me.employee.as_ref().map(|e| e.role_ids.clone()),
        Some(vec!["salesperson".to_string()])
    );
    assert!(!me.permissions.iter().any(|p| p == "*"), "{:?}", me.permissions);
    assert!(
        me.permissions.iter().any(|p| p == "identity.employee.read"),
        "{:?}",
        me.permissions
    );

    // Reading the directory is a salesperson's.
    let listed = as_sam
        .list_employees(pb::ListEmployeesRequest::default())
        .await
        .expect("a salesperson lists employees")
        .into_inner();
    let logins: BTreeSet<String> = listed.employees.into_iter().map(|e| e.login).collect();
    assert_eq!(logins, BTreeSet::from(["admin".to_string(), "sam".to_string()]));
}

// ---------------------------------------------------------------------------------------------
// 6. Token attacks
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn forged_expired_misdirected_and_malformed_tokens_are_refused() {
    let app = spawn().await;
    let admin = app.admin().await;
    let admin_id = admin.employee.id.clone();
    let good = app.claims(&admin_id);

    // The control: a token minted with the service's key is accepted.
    let minted = app.mint(&good);
    let me = current(&mut app.client(&minted))
        .await
        .expect("a correctly minted token works");
    assert_eq!(me.employee.map(|e| e.id), Some(admin_id.clone()));

    let payload = b64(serde_json::to_vec(&good).expect("claims encode"));
    let public = app.key.verifying_key();
    let hs256 = |secret: &[u8]| {
        let header = b64(format!(r#"{{"alg":"HS256","typ":"JWT","kid":"{}"}}"#, app.kid));
        let input = format!("{header}.{payload}");
        format!("{input}.{}", b64(hmac_sha256(secret, input.as_bytes())))
    };
    let none = format!(
        "{}.{payload}.",
        b64(format!(r#"{{"alg":"none","typ":"JWT","kid":"{}"}}"#, app.kid))
    );
    let none_signed = format!("{}{}", none, minted.rsplit('.').next().expect("signature"));

    let mut expired = good.clone();
    expired.iat -= 7200;
    expired.nbf -= 7200;
    expired.exp = crm_kit::time::now_seconds() - 3600;
    let mut not_yet = good.clone();
    not_yet.iat += 3600;
    not_yet.nbf += 3600;
    not_yet.exp += 3600;
    let mut wrong_aud = good.clone();
    wrong_aud.aud = vec!["another-app".into()];
    let mut wrong_iss = good.clone();
    wrong_iss.iss = "someone-else".into();

    let tampered = {
        let mut parts: Vec<String> = minted.split('.').map(str::to_string).collect();
        let mut richer = good.clone();
        richer.perms = vec!["*".into()];
        parts[1] = b64(serde_json::to_vec(&richer).expect("claims encode"));
        parts.join(".")
    };
    let stranger = token::generate_key();
    let unknown_kid = crm_identity::keys::kid_of(&stranger.verifying_key());

    let attacks: Vec<(&str, Option<String>)> = vec![
        ("alg=none", Some(format!("Bearer {none}"))),
        ("alg=none with a real signature", Some(format!("Bearer {none_signed}"))),
        (
            "HS256 keyed with the public key",
            Some(format!("Bearer {}", hs256(public.as_bytes()))),
        ),
        (
            "HS256 keyed with the published key text",
            Some(format!("Bearer {}", hs256(b64(public.as_bytes()).as_bytes()))),
        ),
        ("expired", Some(format!("Bearer {}", app.mint(&expired)))),
        ("not valid yet", Some(format!("Bearer {}", app.mint(&not_yet)))),
        ("wrong audience", Some(format!("Bearer {}", app.mint(&wrong_aud)))),
        ("wrong issuer", Some(format!("Bearer {}", app.mint(&wrong_iss)))),
        ("tampered payload", Some(format!("Bearer {tampered}"))),
        (
            "unknown key and kid",
            Some(format!("Bearer {}", token::sign(&good, &unknown_kid, &stranger))),
        ),
        (
            "a stranger's key under the known kid",
            Some(format!("Bearer {}", token::sign(&good, &app.kid, &stranger))),
        ),
        ("garbage", Some("Bearer garbage".into())),
        ("three garbage segments", Some("Bearer a.b.c".into())),
        ("empty bearer", Some("Bearer ".into())),
        ("bare scheme", Some("Bearer".into())),
        ("no scheme", Some(minted.clone())),
        ("another scheme", Some(format!("Basic {minted}"))),
        ("no header", None),
    ];
    for (name, header) in attacks {
        let status = current(&mut app.with_header(header)).await.expect_err(name);
        assert_eq!(status.code(), Code::Unauthenticated, "{name}: {status:?}");
    }
    // Still fine afterwards (no attack poisoned the key cache).
    current(&mut app.client(&minted))
        .await
        .expect("the good token still works");
    current(&mut app.client(&admin.tokens.access_token))
        .await
        .expect("the signed-in admin's token still works");
}

// ---------------------------------------------------------------------------------------------
// 7. Key rotation
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn rotating_the_signing_key_keeps_old_tokens_valid_and_signs_new_ones_with_the_new_key() {
    let app = spawn().await;
    let mut admin = app.admin().await;
    let old_access = admin.tokens.access_token.clone();

    let rotated = admin
        .client
        .rotate_signing_key(pb::RotateSigningKeyRequest {})
        .await
        .expect("rotate")
        .into_inner()
        .key
        .expect("key");
    assert_ne!(rotated.kid, app.kid);
    assert_eq!(rotated.algorithm, "EdDSA");
    assert!(rotated.retire_time.is_none());

    let set = app.key_set().await;
    let kids: BTreeSet<&str> = set.keys.iter().map(|k| k.kid.as_str()).collect();
    assert_eq!(kids, BTreeSet::from([app.kid.as_str(), rotated.kid.as_str()]));
    let old = set.keys.iter().find(|k| k.kid == app.kid).expect("old key");
    assert!(old.retire_time.is_some(), "the old key is retired");
    let new = set.keys.iter().find(|k| k.kid == rotated.kid).expect("new key");
    assert!(new.retire_time.is_none(), "the new key is current");
    assert_eq!(new.public_key, rotated.public_key);

    // Tokens signed before the rotation still work.
    current(&mut app.client(&old_access))
        .await
        .expect("a token issued before the rotation works");
    current(&mut app.client(&app.mint(&app.claims(&admin.employee.id))))
        .await
        .expect("a token signed with the retired key works");

    // New tokens carry the new kid, verify with the key set, and are accepted at once.
    let fresh = app.tokens("admin", ADMIN_PASSWORD).await;
    assert_eq!(token::key_id(&fresh.access_token), Ok(rotated.kid.clone()));
    verify_with(&set, &fresh.access_token).expect("verifies with the published new key");
    current(&mut app.client(&fresh.access_token))
        .await
        .expect("a token signed with the new key is accepted right after the rotation");
    let refreshed = app
        .anonymous()
        .refresh_token(pb::RefreshTokenRequest {
            refresh_token: admin.tokens.refresh_token.clone(),
        })
        .await
        .expect("a refresh token from before the rotation refreshes")
        .into_inner()
        .tokens
        .expect("tokens");
    assert_eq!(token::key_id(&refreshed.access_token), Ok(rotated.kid.clone()));
}

// ---------------------------------------------------------------------------------------------
// 8. Mass assignment and optimistic concurrency
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn updates_refuse_server_owned_and_unknown_fields_and_stale_etags() {
    let app = spawn().await;
    let mut admin = app.admin().await;
    let dept = admin.employee.department_id.clone();
    let eve = create_employee(&mut admin.client, "eve", &dept, &["salesperson"]).await;

    // Everything a mass assignment would like to set, next to a harmless field.
    let forged = pb::Employee {
        id: eve.id.clone(),
        login: "mallory".into(),
        display_name: "Changed".into(),
        status: pb::EmployeeStatus::Deactivated as i32,
        etag: eve.etag.clone(),
        audit: Some(crm_proto::common::AuditInfo {
            created_by: "someone-else".into(),
            ..Default::default()
        }),
        locked_until: Some(prost_types::Timestamp {
            seconds: 4_000_000_000,
            nanos: 0,
        }),
        ..Default::default()
    };
    let update = |paths: &[&str], e: &pb::Employee| pb::UpdateEmployeeRequest {
        employee: Some(e.clone()),
        update_mask: mask(paths),
    };
    for path in ["login", "status", "etag", "audit", "id", "locked_until"] {
        assert_field(
            admin
                .client
                .update_employee(update(&["display_name", path], &forged))
                .await,
            Code::InvalidArgument,
            &format!("update_mask.{path}"),
            "SERVER_OWNED",
        );
    }
    for path in ["password_hash", "no_such_field"] {
        assert_field(
            admin.client.update_employee(update(&[path], &forged)).await,
            Code::InvalidArgument,
            &format!("update_mask.{path}"),
            "UNKNOWN_FIELD",
        );
    }
    assert_field(
        admin.client.update_employee(update(&[], &forged)).await,
        Code::InvalidArgument,
        "update_mask",
        "REQUIRED",
    );
    let unchanged = get_employee(&mut admin.client, &eve.id).await;
    assert_eq!(unchanged, eve, "refused updates change nothing");
    app.sign_in("eve", PASSWORD).await.expect("eve still signs in as eve");

    // A good update moves the etag on; the old etag is then stale.
    let updated = admin
        .client
        .update_employee(update(&["display_name"], &forged))
        .await
        .expect("update display name")
        .into_inner()
        .employee
        .expect("employee");
    assert_eq!(updated.display_name, "Changed");
    assert_eq!(updated.login, "eve", "only the named field changed");
    assert_eq!(updated.status, pb::EmployeeStatus::Active as i32);
    assert_ne!(updated.etag, eve.etag);
    let mut stale = forged.clone();
    stale.display_name = "Lost update".into();
    assert_reason(
        admin.client.update_employee(update(&["display_name"], &stale)).await,
        Code::Aborted,
        "STALE_ETAG",
    );
    stale.etag = String::new();
    assert_field(
        admin.client.update_employee(update(&["display_name"], &stale)).await,
        Code::InvalidArgument,
        "employee.etag",
        "REQUIRED",
    );
    assert_eq!(get_employee(&mut admin.client, &eve.id).await, updated);

    // Roles: the name and the built-in flag are the server's.
    let auditor = admin
        .client
        .create_role(pb::CreateRoleRequest {
            role: Some(pb::Role {
                name: "auditor".into(),
                description: "Reads customers".into(),
                permissions: vec!["customers.*.read".into()],
                ..Default::default()
            }),
        })
        .await
        .expect("create role")
        .into_inner()
        .role
        .expect("role");
    let forged_role = pb::Role {
        id: auditor.id.clone(),
        name: "admin".into(),
        built_in: true,
        description: "Changed".into(),
        permissions: auditor.permissions.clone(),
        etag: auditor.etag.clone(),
        ..Default::default()
    };
    for path in ["name", "built_in", "employee_count", "audit", "etag"] {
        assert_field(
            admin
                .client
                .update_role(pb::UpdateRoleRequest {
                    role: Some(forged_role.clone()),
                    update_mask: mask(&["description", path]),
                })
                .await,
            Code::InvalidArgument,
            &format!("update_mask.{path}"),
            "SERVER_OWNED",
        );
    }
    assert_eq!(role(&mut admin.client, &auditor.id).await, auditor);
    let renamed = admin
        .client
        .update_role(pb::UpdateRoleRequest {
            role: Some(forged_role.clone()),
            update_mask: mask(&["description"]),
        })
        .await
        .expect("update description")
        .into_inner()
        .role
        .expect("role");
    assert_eq!(
        (renamed.name.as_str(), renamed.built_in, renamed.description.as_str()),
        ("auditor", false, "Changed")
    );
    assert_reason(
        admin
            .client
            .update_role(pb::UpdateRoleRequest {
                role: Some(forged_role),
                update_mask: mask(&["description"]),
            })
            .await,
        Code::Aborted,
        "STALE_ETAG",
    );

    // Departments: the path is the server's.
    let ops = create_department(&mut admin.client, "Operations", "").await;
    let forged_dept = pb::Department {
        id: ops.id.clone(),
        name: "Renamed".into(),
        path: format!("{}evil/", ops.path),
        etag: ops.etag.clone(),
        ..Default::default()
    };
    for path in ["path", "employee_count", "id"] {
        assert_field(
            admin
                .client
                .update_department(pb::UpdateDepartmentRequest {
                    department: Some(forged_dept.clone()),
                    update_mask: mask(&["name", path]),
                })
                .await,
            Code::InvalidArgument,
            &format!("update_mask.{path}"),
            "SERVER_OWNED",
        );
    }
    assert_eq!(department(&mut admin.client, &ops.id).await, ops);
    let renamed = admin
        .client
        .update_department(pb::UpdateDepartmentRequest {
            department: Some(forged_dept.clone()),
            update_mask: mask(&["name"]),
        })
        .await
        .expect("rename department")
        .into_inner()
        .department
        .expect("department");
    assert_eq!(
        (renamed.name.as_str(), renamed.path.as_str()),
        ("Renamed", ops.path.as_str())
    );
    assert_reason(
        admin
            .client
            .update_department(pb::UpdateDepartmentRequest {
                department: Some(forged_dept),
                update_mask: mask(&["name"]),
            })
            .await,
        Code::Aborted,
        "STALE_ETAG",
    );
}

// ---------------------------------------------------------------------------------------------
// 9. Bad input
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn bad_input_names_the_field() {
    let app = spawn().await;
    let mut admin = app.admin().await;
    let dept = admin.employee.department_id.clone();

    let create = |e: pb::Employee, password: &str| pb::CreateEmployeeRequest {
        employee: Some(e),
        password: password.into(),
        ..Default::default()
    };
    let valid = || employee("valid.login", &dept, &["salesperson"]);
    let cases: Vec<(pb::CreateEmployeeRequest, &str, &str)> = vec![
        (create(valid(), "short"), "password", "TOO_SHORT"),
        (
            create(
                pb::Employee {
                    login: "has spaces".into(),
                    ..valid()
                },
                PASSWORD,
            ),
            "employee.login",
            "MALFORMED",
        ),
        (
            create(
                pb::Employee {
                    login: "ab".into(),
                    ..valid()
                },
                PASSWORD,
            ),
            "employee.login",
            "TOO_SHORT",
        ),
        (
            create(
                pb::Employee {
                    email: "not-an-email".into(),
                    ..valid()
                },
                PASSWORD,
            ),
            "employee.email",
            "MALFORMED",
        ),
        (
            create(
                pb::Employee {
                    department_id: "no-such-department".into(),
                    ..valid()
                },
                PASSWORD,
            ),
            "employee.department_id",
            "UNKNOWN_DEPARTMENT",
        ),
        (
            create(
                pb::Employee {
                    role_ids: vec!["no_such_role".into()],
                    ..valid()
                },
                PASSWORD,
            ),
            "employee.role_ids[0]",
            "UNKNOWN_ROLE",
        ),
        (
            create(
                pb::Employee {
                    display_name: "  ".into(),
                    ..valid()
                },
                PASSWORD,
            ),
            "employee.display_name",
            "REQUIRED",
        ),
    ];
    for (request, field, reason) in cases {
        assert_field(
            admin.client.create_employee(request).await,
            Code::InvalidArgument,
            field,
            reason,
        );
    }
    let none = admin
        .client
        .list_employees(pb::ListEmployeesRequest {
            query: "valid".into(),
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner();
    assert!(none.employees.is_empty(), "nothing was created: {:?}", none.employees);

    // Logins are unique without regard to case.
    let dora = create_employee(&mut admin.client, "Dora", &dept, &[]).await;
    assert_eq!(dora.login, "Dora");
    let taken = assert_reason(
        admin
            .client
            .create_employee(create(employee("dORA", &dept, &[]), PASSWORD))
            .await,
        Code::AlreadyExists,
        "LOGIN_TAKEN",
    );
    assert_eq!(
        taken
            .get_details_error_info()
            .and_then(|i| i.metadata.get("field").cloned())
            .as_deref(),
        Some("employee.login")
    );

    // Roles.
    let create_role = |name: &str, permissions: &[&str]| pb::CreateRoleRequest {
        role: Some(pb::Role {
            name: name.into(),
            permissions: permissions.iter().map(|p| p.to_string()).collect(),
            ..Default::default()
        }),
    };
    assert_field(
        admin
            .client
            .create_role(create_role("reader", &["nosuch.thing.read"]))
            .await,
        Code::InvalidArgument,
        "role.permissions[0]",
        "UNKNOWN_PERMISSION",
    );
    assert_field(
        admin
            .client
            .create_role(create_role("reader", &["customers.customer.read", "customers.read"]))
            .await,
        Code::InvalidArgument,
        "role.permissions[1]",
        "MALFORMED",
    );
    assert_field(
        admin
            .client
            .create_role(create_role("reader", &["Customers.*.READ"]))
            .await,
        Code::InvalidArgument,
        "role.permissions[0]",
        "MALFORMED",
    );
    assert_field(
        admin
            .client
            .create_role(create_role("admin", &["customers.*.read"]))
            .await,
        Code::InvalidArgument,
        "role.name",
        "BUILT_IN",
    );
    assert_field(
        admin
            .client
            .create_role(pb::CreateRoleRequest {
                role: Some(pb::Role {
                    name: "scoped".into(),
                    permissions: vec!["customers.*.read".into()],
                    scopes: vec![pb::ServiceScope {
                        service: "customers".into(),
                        scope: pb::DataScope::Unspecified as i32,
                    }],
                    ..Default::default()
                }),
            })
            .await,
        Code::InvalidArgument,
        "role.scopes[0].scope",
        "UNKNOWN_ENUM_VALUE",
    );

    // Passwords.
    assert_field(
        admin
            .client
            .change_password(pb::ChangePasswordRequest {
                old_password: "not-the-admin-password".into(),
                new_password: "a-brand-new-password".into(),
            })
            .await,
        Code::InvalidArgument,
        "old_password",
        "WRONG_PASSWORD",
    );
    assert_field(
        admin
            .client
            .change_password(pb::ChangePasswordRequest {
                old_password: ADMIN_PASSWORD.into(),
                new_password: "short".into(),
            })
            .await,
        Code::InvalidArgument,
        "new_password",
        "TOO_SHORT",
    );
    app.sign_in("admin", ADMIN_PASSWORD)
        .await
        .expect("the password did not change");

    // Listing.
    assert_field(
        admin
            .client
            .list_employees(pb::ListEmployeesRequest {
                page_token: "not-a-page-token".into(),
                ..Default::default()
            })
            .await,
        Code::InvalidArgument,
        "page_token",
        "INVALID_PAGE_TOKEN",
    );
    assert_field(
        admin
            .client
            .list_employees(pb::ListEmployeesRequest {
                filter: r#"colour = "red""#.into(),
                ..Default::default()
            })
            .await,
        Code::InvalidArgument,
        "filter",
        "UNKNOWN_FIELD",
    );
    assert_field(
        admin
            .client
            .list_employees(pb::ListEmployeesRequest {
                page_size: -1,
                ..Default::default()
            })
            .await,
        Code::InvalidArgument,
        "page_size",
        "OUT_OF_RANGE",
    );
}

// ---------------------------------------------------------------------------------------------
// 10. Departments
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn department_tree_refuses_cycles_moves_subtrees_and_keeps_nonempty_departments() {
    let app = spawn().await;
    let mut admin = app.admin().await;
    let a = create_department(&mut admin.client, "A", "").await;
    let b = create_department(&mut admin.client, "B", &a.id).await;
    let c = create_department(&mut admin.client, "C", &b.id).await;
    assert_eq!(a.path, format!("/{}/", a.id));
    assert_eq!(b.path, format!("/{}/{}/", a.id, b.id));
    assert_eq!(c.path, format!("/{}/{}/{}/", a.id, b.id, c.id));

    let move_under = |d: &pb::Department, parent: &str| pb::UpdateDepartmentRequest {
        department: Some(pb::Department {
            id: d.id.clone(),
            parent_id: parent.into(),
            etag: d.etag.clone(),
            ..Default::default()
        }),
        update_mask: mask(&["parent_id"]),
    };
    for parent in [&c.id, &b.id, &a.id] {
        assert_field(
            admin.client.update_department(move_under(&a, parent)).await,
            Code::InvalidArgument,
            "department.parent_id",
            "CYCLE",
        );
    }
    assert_field(
        admin
            .client
            .update_department(move_under(&a, "no-such-department"))
            .await,
        Code::InvalidArgument,
        "department.parent_id",
        "UNKNOWN_DEPARTMENT",
    );
    assert_eq!(
        department(&mut admin.client, &a.id).await,
        a,
        "refused moves change nothing"
    );

    // B (with C under it) to the top level.
    let moved = admin
        .client
        .update_department(move_under(&b, ""))
        .await
        .expect("move B to the top")
        .into_inner()
        .department
        .expect("department");
    assert_eq!(moved.parent_id, "");
    assert_eq!(moved.path, format!("/{}/", b.id));
    let c_now = department(&mut admin.client, &c.id).await;
    assert!(
        c_now.path.starts_with(&format!("/{}/", b.id)),
        "C's path follows B: {}",
        c_now.path
    );
    assert_eq!(c_now.path, format!("/{}/{}/", b.id, c.id));
    assert_eq!(c_now.parent_id, b.id);
    assert_eq!(department(&mut admin.client, &a.id).await.path, a.path);

    // And back under A: the subtree follows again.
    let moved_back = admin
        .client
        .update_department(move_under(&moved, &a.id))
        .await
        .expect("move B under A")
        .into_inner()
        .department
        .expect("department");
    assert_eq!(moved_back.path, b.path);
    assert_eq!(department(&mut admin.client, &c.id).await.path, c.path);

    // Sibling names are unique.
    assert_reason(
        admin
            .client
            .create_department(pb::CreateDepartmentRequest {
                department: Some(pb::Department {
                    name: "B".into(),
                    parent_id: a.id.clone(),
                    ..Default::default()
                }),
            })
            .await,
        Code::AlreadyExists,
        "DEPARTMENT_NAME_TAKEN",
    );

    // Departments with sub-departments or employees stay.
    let delete = |id: &str| pb::DeleteDepartmentRequest { id: id.into() };
    assert_reason(
        admin.client.delete_department(delete(&b.id)).await,
        Code::FailedPrecondition,
        "DEPARTMENT_IN_USE",
    );
    let company = admin.employee.department_id.clone();
    assert_eq!(department(&mut admin.client, &company).await.employee_count, 1);
    assert_reason(
        admin.client.delete_department(delete(&company)).await,
        Code::FailedPrecondition,
        "DEPARTMENT_IN_USE",
    );
    // Leaves go, then their parents.
    admin
        .client
        .delete_department(delete(&c.id))
        .await
        .expect("delete the empty leaf C");
    admin
        .client
        .delete_department(delete(&b.id))
        .await
        .expect("delete B once C is gone");
    assert_reason(
        admin.client.delete_department(delete(&b.id)).await,
        Code::NotFound,
        "NOT_FOUND",
    );
    let left: BTreeSet<String> = departments(&mut admin.client).await.into_iter().map(|d| d.id).collect();
    assert_eq!(left, BTreeSet::from([company, a.id.clone()]));
}

// ---------------------------------------------------------------------------------------------
// 11. Roles
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn custom_roles_grant_their_permissions_and_scopes_and_held_or_built_in_roles_are_kept() {
    let app = spawn().await;
    let mut admin = app.admin().await;
    let dept = create_department(&mut admin.client, "Service desk", "").await;
    let reader = admin
        .client
        .create_role(pb::CreateRoleRequest {
            role: Some(pb::Role {
                name: "dept_reader".into(),
                description: "Reads the department's customers".into(),
                permissions: vec!["customers.*.read".into()],
                scopes: vec![pb::ServiceScope {
                    service: "customers".into(),
                    scope: pb::DataScope::Department as i32,
                }],
                ..Default::default()
            }),
        })
        .await
        .expect("create role")
        .into_inner()
        .role
        .expect("role");
    assert!(!reader.built_in);
    assert_eq!(reader.permissions, ["customers.*.read"]);

    let rita = create_employee(&mut admin.client, "rita", &dept.id, &[reader.id.as_str()]).await;
    assert_eq!(rita.role_ids, [reader.id.as_str()]);
    let tokens = app.tokens("rita", PASSWORD).await;
    let me = current(&mut app.client(&tokens.access_token))
        .await
        .expect("rita reads herself");
    assert_eq!(me.permissions, ["customers.*.read"]);
    assert_eq!(
        me.scopes,
        [pb::ServiceScope {
            service: "customers".into(),
            scope: pb::DataScope::Department as i32,
        }]
    );
    let claims = verify_with(&app.key_set().await, &tokens.access_token).expect("verifies");
    assert_eq!(claims.perms, ["customers.*.read"]);
    assert_eq!(claims.roles, ["dept_reader"]);
    assert_eq!(claims.dept, dept.id);
    assert_eq!(claims.dpath, dept.path);
    assert_eq!(claims.scopes.get("customers").map(String::as_str), Some("department"));
    // Without the directory permissions, rita cannot list colleagues.
    assert_reason(
        app.client(&tokens.access_token)
            .list_employees(pb::ListEmployeesRequest::default())
            .await,
        Code::PermissionDenied,
        "PERMISSION_DENIED",
    );

    // A held role stays.
    assert_eq!(role(&mut admin.client, &reader.id).await.employee_count, 1);
    assert_reason(
        admin
            .client
            .delete_role(pb::DeleteRoleRequest { id: reader.id.clone() })
            .await,
        Code::FailedPrecondition,
        "ROLE_IN_USE",
    );

    // Built-in roles are fixed.
    let salesperson = role(&mut admin.client, "salesperson").await;
    assert!(salesperson.built_in);
    assert_reason(
        admin
            .client
            .update_role(pb::UpdateRoleRequest {
                role: Some(pb::Role {
                    id: "salesperson".into(),
                    description: "Can do anything".into(),
                    etag: salesperson.etag.clone(),
                    ..Default::default()
                }),
                update_mask: mask(&["description"]),
            })
            .await,
        Code::FailedPrecondition,
        "BUILT_IN_ROLE",
    );
    for id in ["admin", "salesperson"] {
        assert_reason(
            admin.client.delete_role(pb::DeleteRoleRequest { id: id.into() }).await,
            Code::FailedPrecondition,
            "BUILT_IN_ROLE",
        );
    }
    assert_eq!(role(&mut admin.client, "salesperson").await, salesperson);

    // Once nobody holds it, the custom role can go.
    let rita = get_employee(&mut admin.client, &rita.id).await;
    admin
        .client
        .update_employee(pb::UpdateEmployeeRequest {
            employee: Some(pb::Employee {
                id: rita.id.clone(),
                role_ids: vec![],
                etag: rita.etag.clone(),
                ..Default::default()
            }),
            update_mask: mask(&["role_ids"]),
        })
        .await
        .expect("take the role away");
    admin
        .client
        .delete_role(pb::DeleteRoleRequest { id: reader.id.clone() })
        .await
        .expect("delete the unused role");
    let me = current(&mut app.client(&app.tokens("rita", PASSWORD).await.access_token))
        .await
        .expect("rita still reads herself");
    assert!(me.permissions.is_empty(), "{:?}", me.permissions);
}

// ---------------------------------------------------------------------------------------------
// 12. Paging
// ---------------------------------------------------------------------------------------------

async fn list_all(client: &mut Client, query: &str, filter: &str, page_size: i32) -> Vec<Vec<pb::Employee>> {
    let mut pages = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = client
            .list_employees(pb::ListEmployeesRequest {
                filter: filter.into(),
                query: query.into(),
                page_size,
                page_token: page_token.clone(),
            })
            .await
            .expect("list employees")
            .into_inner();
        pages.push(page.employees);
        if page.next_page_token.is_empty() {
            return pages;
        }
        assert!(pages.len() < 20, "paging does not end");
        page_token = page.next_page_token;
    }
}

fn logins(pages: &[Vec<pb::Employee>]) -> Vec<String> {
    pages.iter().flatten().map(|e| e.login.clone()).collect()
}

#[tokio::test]
async fn employees_page_in_login_order_without_duplicates_and_query_matches_substrings() {
    let app = spawn().await;
    let mut admin = app.admin().await;
    let dept = admin.employee.department_id.clone();
    // Created out of order; display names differ from logins.
    let names = [
        ("pagee", "Erin Echo"),
        ("pagea", "Alma Alpha"),
        ("pageg", "Gus Golf"),
        ("pagec", "Cleo Charlie"),
        ("pageb", "Bo Bravo"),
        ("pagef", "Fay Foxtrot"),
        ("paged", "Dan Delta"),
    ];
    for (login, display_name) in names {
        admin
            .client
            .create_employee(pb::CreateEmployeeRequest {
                employee: Some(pb::Employee {
                    login: login.into(),
                    display_name: display_name.into(),
                    department_id: dept.clone(),
                    ..Default::default()
                }),
                password: PASSWORD.into(),
                ..Default::default()
            })
            .await
            .unwrap_or_else(|s| panic!("create {login}: {s:?}"));
    }
    let mut expected: Vec<String> = names.iter().map(|(l, _)| l.to_string()).collect();
    expected.push("admin".into());
    expected.sort();

    let pages = list_all(&mut admin.client, "", "", 3).await;
    let sizes: Vec<usize> = pages.iter().map(Vec::len).collect();
    assert_eq!(sizes, [3, 3, 2]);
    assert_eq!(logins(&pages), expected, "every employee once, in login order");
    let ids: BTreeSet<String> = pages.iter().flatten().map(|e| e.id.clone()).collect();
    assert_eq!(ids.len(), expected.len(), "no duplicates");

    // Substrings of the login or the display name, without regard to case.
    let page_logins: Vec<String> = expected.iter().filter(|l| l.starts_with("page")).cloned().collect();
    assert_eq!(logins(&list_all(&mut admin.client, "PAGE", "", 3).await), page_logins);
    assert_eq!(logins(&list_all(&mut admin.client, "geb", "", 3).await), ["pageb"]);
    assert_eq!(logins(&list_all(&mut admin.client, "charlie", "", 3).await), ["pagec"]);
    assert_eq!(
        logins(&list_all(&mut admin.client, "a", "", 2).await),
        expected,
        "every login holds an a"
    );
    // LIKE's wildcards are plain characters in a query.
    assert!(logins(&list_all(&mut admin.client, "%", "", 3).await).is_empty());
    assert!(logins(&list_all(&mut admin.client, "_", "", 3).await).is_empty());

    // Filters.
    assert_eq!(
        logins(&list_all(&mut admin.client, "", r#"login = "pagec""#, 3).await),
        ["pagec"]
    );
    assert_eq!(
        logins(&list_all(&mut admin.client, "page", r#"status = "active""#, 3).await),
        page_logins
    );

    // A page token belongs to its query.
    let first = admin
        .client
        .list_employees(pb::ListEmployeesRequest {
            page_size: 3,
            ..Default::default()
        })
        .await
        .expect("first page")
        .into_inner();
    assert!(!first.next_page_token.is_empty());
    assert_field(
        admin
            .client
            .list_employees(pb::ListEmployeesRequest {
                page_size: 3,
                query: "page".into(),
                page_token: first.next_page_token,
                ..Default::default()
            })
            .await,
        Code::InvalidArgument,
        "page_token",
        "INVALID_PAGE_TOKEN",
    );
}

#[tokio::test]
async fn wrong_old_passwords_count_towards_the_lockout() {
    let app = spawn().await;
    let mut admin = app.admin().await;
    let department = admin.employee.department_id.clone();
    create_employee(&mut admin.client, "guesser", &department, &["salesperson"]).await;
    let signed_in = app.sign_in("guesser", PASSWORD).await.expect("sign in");
    let mut guesser = app.client(&signed_in.tokens.unwrap().access_token);
    // A stolen access token must not let anyone guess the password without limit.
    for attempt in 1..5 {
        assert_field(
            guesser
                .change_password(pb::ChangePasswordRequest {
                    old_password: format!("guess-number-{attempt}"),
                    new_password: "a-brand-new-password".into(),
                })
                .await,
            Code::InvalidArgument,
            "old_password",
            "WRONG_PASSWORD",
        );
    }
    assert_reason(
        guesser
            .change_password(pb::ChangePasswordRequest {
                old_password: "guess-number-5".into(),
                new_password: "a-brand-new-password".into(),
            })
            .await,
        Code::Unauthenticated,
        "ACCOUNT_LOCKED",
    );
    // Locked now: the right old password is refused too, and so is signing in.
    assert_reason(
        guesser
            .change_password(pb::ChangePasswordRequest {
                old_password: PASSWORD.into(),
                new_password: "a-brand-new-password".into(),
            })
            .await,
        Code::Unauthenticated,
        "ACCOUNT_LOCKED",
    );
    assert_reason(
        app.sign_in("guesser", PASSWORD).await,
        Code::Unauthenticated,
        "ACCOUNT_LOCKED",
    );
}

// ---------------------------------------------------------------------------------------------
// Hostile input
// ---------------------------------------------------------------------------------------------

/// Sends and receives message bodies as raw bytes, so a test can send what no generated client
/// would: truncated messages, invalid UTF-8 in a `string`.
#[derive(Debug, Clone, Default)]
struct RawCodec;

#[derive(Debug, Clone, Default)]
struct RawEncoder;

#[derive(Debug, Clone, Default)]
struct RawDecoder;

impl tonic::codec::Codec for RawCodec {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = RawEncoder;
    type Decoder = RawDecoder;
    fn encoder(&mut self) -> RawEncoder {
        RawEncoder
    }
    fn decoder(&mut self) -> RawDecoder {
        RawDecoder
    }
}

impl tonic::codec::Encoder for RawEncoder {
    type Item = Vec<u8>;
    type Error = Status;
    fn encode(&mut self, item: Vec<u8>, buf: &mut tonic::codec::EncodeBuf<'_>) -> Result<(), Status> {
        bytes::BufMut::put_slice(buf, &item);
        Ok(())
    }
}

impl tonic::codec::Decoder for RawDecoder {
    type Item = Vec<u8>;
    type Error = Status;
    fn decode(&mut self, buf: &mut tonic::codec::DecodeBuf<'_>) -> Result<Option<Vec<u8>>, Status> {
        let n = bytes::Buf::remaining(buf);
        Ok(Some(bytes::Buf::copy_to_bytes(buf, n).to_vec()))
    }
}

/// Calls `path` with `body` as the request message, bytes as they are.
async fn raw_call(channel: Channel, path: &'static str, body: Vec<u8>) -> Result<Vec<u8>, Status> {
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.map_err(|e| Status::unavailable(e.to_string()))?;
    grpc.unary(
        tonic::Request::new(body),
        tonic::codegen::http::uri::PathAndQuery::from_static(path),
        RawCodec,
    )
    .await
    .map(tonic::Response::into_inner)
}

#[tokio::test]
async fn undecodable_requests_are_invalid_argument_not_internal() {
    let app = spawn().await;
    const SIGN_IN: &str = "/crm.identity.v1.IdentityService/SignIn";
    // Field 1 (login), length 2, bytes that are not UTF-8.
    let bad_utf8 = vec![0x0a, 0x02, 0xff, 0xfe, 0x12, 0x01, b'x'];
    // Field 1 says 10 bytes follow; 2 do.
    let truncated = vec![0x0a, 0x0a, b'a', b'b'];
    // Wire type 7 does not exist.
    let bad_wire_type = vec![0x0f];
    for (what, body) in [
        ("bad UTF-8", bad_utf8),
        ("truncated", truncated),
        ("wire type", bad_wire_type),
    ] {
        let status = raw_call(app.channel.clone(), SIGN_IN, body).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{what}: {status:?}");
    }
    // The same bytes, well formed, reach the handler (bad credentials, not a decode error).
    let good = pb::SignInRequest {
        login: "admin".into(),
        password: "wrong-password".into(),
    };
    let status = raw_call(app.channel.clone(), SIGN_IN, prost::Message::encode_to_vec(&good))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
}

#[tokio::test]
async fn control_characters_in_a_login_are_invalid_argument_on_every_database() {
    let app = spawn().await;
    for login in ["ad\0min", "admin\u{1b}", "ad\u{85}min"] {
        let status = app.sign_in(login, ADMIN_PASSWORD).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{login:?}: {status:?}");
        let bad = status.get_details_bad_request().expect("BadRequest details");
        assert!(bad.field_violations.iter().any(|v| v.field == "login"), "{bad:?}");
    }
    let status = app.sign_in(&"a".repeat(10_000), ADMIN_PASSWORD).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    app.sign_in("admin", ADMIN_PASSWORD)
        .await
        .expect("the administrator still signs in");

    let mut admin = app.admin().await.client;
    let status = admin
        .list_employees(pb::ListEmployeesRequest {
            query: "a\0".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    let status = admin
        .list_employees(pb::ListEmployeesRequest {
            query: "x".repeat(3000),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
}
