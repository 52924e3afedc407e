//! A tonic server every service runs the same way: health (`grpc.health.v1`) that tells the
//! truth about the database, reflection (v1 and v1alpha, for grpcurl), a span and a log line per
//! call, request limits, and graceful shutdown: health flips to NOT_SERVING, the listener
//! closes, in-flight calls drain within a grace period, background tasks are told to stop.

use std::future::Future;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::service::Routes;
use tonic::transport::Server;
use tonic_health::ServingStatus;

use crate::db::Db;
use crate::errors::{Error, Result};

/// How shutdown proceeds.
#[derive(Debug, Clone, Copy)]
pub struct ShutdownTimings {
    /// How long health reports NOT_SERVING before the listener closes, so load balancers notice.
    pub drain_delay: Duration,
    /// The most time in-flight calls get to finish.
    pub grace: Duration,
}

/// What to serve and how.
pub struct ServeSpec {
    /// Short service name for logs, e.g. `customers`.
    pub name: &'static str,
    /// Fully qualified gRPC service names whose health is reported, e.g.
    /// `crm.customers.v1.CustomersService`.
    pub grpc_services: Vec<&'static str>,
    /// The service's routes (the kit adds health and reflection).
    pub routes: Routes,
    /// The database whose reachability health reports.
    pub db: Option<Db>,
    /// More health entries, each under its own name, serving while its value is true: how
    /// the service's background work fares (an event follower that cannot reach its feed),
    /// which does not take the service itself out of rotation.
    pub health_checks: Vec<(String, watch::Receiver<bool>)>,
    /// Verifies callers and checks each method's permission (see [`crate::auth`]). `None` only
    /// for a service not yet under access control.
    pub auth: Option<crate::auth::Gate>,
    /// Longest a single call may run (None: no server-side limit).
    pub request_timeout: Option<Duration>,
    pub shutdown: ShutdownTimings,
}

/// Tells background tasks the service is stopping.
#[derive(Debug, Clone)]
pub struct Stopping(watch::Receiver<bool>);

impl Stopping {
    /// A signal that never fires, with its trigger.
    pub fn new() -> (watch::Sender<bool>, Stopping) {
        let (tx, rx) = watch::channel(false);
        (tx, Stopping(rx))
    }

    /// Completes when the service starts stopping.
    pub async fn wait(&mut self) {
        while !*self.0.borrow() {
            if self.0.changed().await.is_err() {
                return;
            }
        }
    }

    /// Whether the service is stopping.
    pub fn is_stopping(&self) -> bool {
        *self.0.borrow()
    }
}

/// Serves until `shutdown` completes, then drains. `stop_background` is flipped once the
/// listener has closed.
pub async fn serve(
    listener: TcpListener,
    spec: ServeSpec,
    shutdown: impl Future<Output = ()> + Send,
    stop_background: watch::Sender<bool>,
) -> Result<()> {
    let addr = listener.local_addr().map_err(|e| Error::Internal(e.to_string()))?;
    let (reporter, health) = tonic_health::server::health_reporter();
    let reflection_v1 = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(crm_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()
        .map_err(|e| Error::Internal(format!("reflection: {e}")))?;
    let reflection_v1alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(crm_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1alpha()
        .map_err(|e| Error::Internal(format!("reflection: {e}")))?;

    let names: Vec<&'static str> = std::iter::once("").chain(spec.grpc_services.iter().copied()).collect();
    for name in &names {
        reporter.set_service_status(*name, ServingStatus::Serving).await;
    }

    // Health follows the database: a service that cannot reach its data is not serving.
    let (health_stop_tx, mut health_stop) = watch::channel(false);
    let health_task = spec.db.clone().map(|db| {
        let reporter = reporter.clone();
        let names = names.clone();
        tokio::spawn(async move {
            let mut serving = true;
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(5)) => {}
                    _ = health_stop.changed() => return,
                }
                let ok = db.ping().await;
                if ok != serving {
                    serving = ok;
                    let status = if ok {
                        ServingStatus::Serving
                    } else {
                        ServingStatus::NotServing
                    };
                    tracing::warn!(database_reachable = ok, "health changed");
                    for name in &names {
                        reporter.set_service_status(*name, status).await;
                    }
                }
            }
        })
    });

    // Each further check mirrors its value, until shutdown reports everything NOT_SERVING.
    let check_names: Vec<String> = spec.health_checks.iter().map(|(n, _)| n.clone()).collect();
    let check_tasks: Vec<tokio::task::JoinHandle<()>> = spec
        .health_checks
        .into_iter()
        .map(|(name, mut rx)| {
            let reporter = reporter.clone();
            let mut stop = health_stop_tx.subscribe();
            tokio::spawn(async move {
                loop {
                    let ok = *rx.borrow_and_update();
                    if *stop.borrow() {
                        return;
                    }
                    let status = if ok {
                        ServingStatus::Serving
                    } else {
                        ServingStatus::NotServing
                    };
                    reporter.set_service_status(&name, status).await;
                    tokio::select! {
                        changed = rx.changed() => if changed.is_err() { return },
                        _ = stop.changed() => return,
                    }
                    tracing::info!(check = %name, ok = *rx.borrow(), "health changed");
                }
            })
        })
        .collect();

    let routes = spec
        .routes
        .add_service(health)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha);

    let timings = spec.shutdown;
    let service_name = spec.name;
    let (closed_tx, closed_rx) = tokio::sync::oneshot::channel::<()>();
    let signal = {
        let reporter = reporter.clone();
        let names = names.clone();
        async move {
            shutdown.await;
            tracing::info!(service = service_name, "shutting down: health NOT_SERVING, draining");
            let _ = health_stop_tx.send(true);
            for name in &names {
                reporter.set_service_status(*name, ServingStatus::NotServing).await;
            }
            for name in &check_names {
                reporter.set_service_status(name, ServingStatus::NotServing).await;
            }
            tokio::time::sleep(timings.drain_delay).await;
            let _ = closed_tx.send(());
        }
    };

    tracing::info!(service = service_name, %addr, "serving gRPC");
    let mut builder = Server::builder();
    if let Some(limit) = spec.request_timeout {
        builder = builder.timeout(limit);
    }
    let server = builder
        .http2_max_header_list_size(64 * 1024)
        .trace_fn(crate::telemetry::rpc_span)
        .layer(crate::telemetry::RpcLogLayer)
        .layer(crate::auth::AuthLayer::new(spec.auth))
        .add_routes(routes)
        .serve_with_incoming_shutdown(incoming(listener), signal);
    tokio::pin!(server);

    // Once the listener closes, in-flight calls get `grace` to finish.
    let result = tokio::select! {
        r = &mut server => r,
        _ = async {
            let _ = closed_rx.await;
            tokio::time::sleep(timings.grace).await;
        } => {
            tracing::warn!(service = service_name, "grace period over; abandoning unfinished calls");
            Ok(())
        }
    };
    let _ = stop_background.send(true);
    if let Some(task) = health_task {
        task.abort();
    }
    for task in check_tasks {
        task.abort();
    }
    tracing::info!(service = service_name, "stopped");
    result.map_err(|e| Error::Internal(format!("server: {e}")))
}

/// Accepted connections with Nagle's algorithm off: gRPC sends small frames, and without
/// TCP_NODELAY every response waits out the peer's delayed ACK (about 40 ms on Linux).
fn incoming(listener: TcpListener) -> impl tokio_stream::Stream<Item = std::io::Result<tokio::net::TcpStream>> {
    use tokio_stream::StreamExt;
    TcpListenerStream::new(listener).map(|conn| {
        let stream = conn?;
        stream.set_nodelay(true)?;
        Ok(stream)
    })
}

/// Binds a listener, with an error that names the address.
pub async fn bind(addr: std::net::SocketAddr) -> Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| Error::Internal(format!("cannot listen on {addr}: {e}")))
}

/// Completes on ctrl-c or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
