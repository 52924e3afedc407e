//! End-to-end flows of the CRM: the whole suite started as `crm` starts it, called over gRPC
//! and through the gateway the way a client would. Cross-service flows join as services
//! arrive; the tests are in `tests/`, and what they share to start the suite and call it is
//! here.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crm_proto::identity as id;
use crm_proto::identity::identity_service_client::IdentityServiceClient;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::transport::Channel;

/// The administrator's password on the first start of every test suite (login `admin`).
pub const ADMIN_PASSWORD: &str = "e2e-admin-password";

/// The settings a test runs the suite with: every service and the gateway on a free loopback
/// port, the data in a fresh directory, the administrator's password [`ADMIN_PASSWORD`].
pub fn config() -> crm_suite::SuiteConfig {
    crm_suite::SuiteConfig::on_free_ports(
        std::env::temp_dir().join(format!("crm-e2e-{}", crm_kit::new_id())),
        ADMIN_PASSWORD,
    )
}

/// A running suite (started on the current runtime) and where its parts listen.
pub struct Suite {
    /// Every part in the order it started, the gateway last.
    pub services: Vec<(&'static str, SocketAddr)>,
    pub identity: SocketAddr,
    pub customers: SocketAddr,
    pub sales: SocketAddr,
    pub warehouse: SocketAddr,
    pub gateway: SocketAddr,
    pub data_dir: PathBuf,
    stop: oneshot::Sender<()>,
    task: JoinHandle<crm_kit::Result<()>>,
}

impl Suite {
    /// Starts the suite with [`config`].
    pub async fn start() -> Suite {
        Suite::start_with(config()).await
    }

    /// Starts the suite with `config` and returns once every part listens.
    pub async fn start_with(config: crm_suite::SuiteConfig) -> Suite {
        let data_dir = config.data_dir.clone();
        let (addr_tx, addr_rx) = oneshot::channel();
        let (stop, stop_rx) = oneshot::channel::<()>();
        let task = tokio::spawn(crm_suite::run(
            config,
            async move {
                let _ = stop_rx.await;
            },
            move |started| {
                let _ = addr_tx.send(started.services.clone());
            },
        ));
        let services = addr_rx.await.expect("suite started");
        let find = |name: &str| {
            services
                .iter()
                .find(|(n, _)| *n == name)
                .unwrap_or_else(|| panic!("the suite runs {name}"))
                .1
        };
        Suite {
            identity: find("identity"),
            customers: find("customers"),
            sales: find("sales"),
            warehouse: find("warehouse"),
            gateway: find("gateway"),
            services,
            data_dir,
            stop,
            task,
        }
    }

    /// Stops the suite as a signal would (it must stop cleanly within 30 s) and removes its data.
    pub async fn stop(self) {
        self.stop.send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(30), self.task)
            .await
            .expect("stops")
            .unwrap()
            .unwrap();
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

/// A gRPC channel to `addr`.
pub async fn channel(addr: SocketAddr) -> Channel {
    Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap()
}

/// An interceptor that sends `token` as the bearer token.
pub fn with_token(
    token: &str,
) -> impl FnMut(tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> + Clone + use<> {
    let bearer: tonic::metadata::MetadataValue<_> = format!("Bearer {token}").parse().unwrap();
    move |mut req: tonic::Request<()>| {
        req.metadata_mut().insert("authorization", bearer.clone());
        Ok(req)
    }
}

/// Signs in over gRPC: the access token and the employee.
pub async fn sign_in(identity: SocketAddr, login: &str, password: &str) -> (String, id::Employee) {
    let signed = IdentityServiceClient::new(channel(identity).await)
        .sign_in(id::SignInRequest {
            login: login.into(),
            password: password.into(),
        })
        .await
        .unwrap()
        .into_inner();
    (signed.tokens.unwrap().access_token, signed.employee.unwrap())
}

/// Sends one HTTP/1.1 request and reads the whole response (the request asks to close).
pub async fn http(addr: SocketAddr, request: &str) -> String {
    use std::io::{Read, Write};
    let request = request.to_string();
    tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        let mut response = Vec::new();
        stream.read_to_end(&mut response).unwrap();
        String::from_utf8_lossy(&response).into_owned()
    })
    .await
    .unwrap()
}
