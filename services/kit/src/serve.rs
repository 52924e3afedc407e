//! A tonic server every service runs the same way: health (`grpc.health.v1`) that tells the
//! truth about the database, reflection (v1 and v1alpha, for grpcurl), a span and a log line per
//! call, request limits, and graceful shutdown: health flips to NOT_SERVING, the listener
//! closes, in-flight calls drain within a grace period, background tasks are told to stop.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
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
    /// Connection and stream limits of the gRPC port (see [`crate::limits`]).
    pub limits: crate::limits::ConnectionLimits,
    /// Calls at least this slow get an access line at INFO (see [`crate::telemetry::AccessLayer`]).
    pub slow_call: Duration,
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

    let names: Vec<&'static str> = std::iter::once("").chain(spec.grpc_services.iter().copied()).collect();
    let service_name = spec.name;
    for name in &names {
        report(&reporter, service_name, name, true).await;
    }

    // Health follows the database: a service that cannot reach its data is not serving.
    let (health_stop_tx, health_stop) = watch::channel(false);
    let health_task = spec.db.clone().map(|db| {
        tokio::spawn(follow_database(
            db,
            reporter.clone(),
            service_name,
            names.clone(),
            health_stop,
        ))
    });

    // Each further check mirrors its value, until shutdown reports everything NOT_SERVING.
    let check_names: Vec<String> = spec.health_checks.iter().map(|(n, _)| n.clone()).collect();
    let check_tasks: Vec<tokio::task::JoinHandle<()>> = spec
        .health_checks
        .into_iter()
        .map(|(name, rx)| {
            tokio::spawn(mirror_check(
                name,
                rx,
                reporter.clone(),
                service_name,
                health_stop_tx.subscribe(),
            ))
        })
        .collect();

    let routes = spec
        .routes
        .add_service(health)
        .add_service(
            reflection()
                .build_v1()
                .map_err(|e| Error::Internal(format!("reflection: {e}")))?,
        )
        .add_service(
            reflection()
                .build_v1alpha()
                .map_err(|e| Error::Internal(format!("reflection: {e}")))?,
        );

    let timings = spec.shutdown;
    let (closed_tx, closed_rx) = tokio::sync::oneshot::channel::<()>();
    let signal = {
        let reporter = reporter.clone();
        let names = names.clone();
        async move {
            shutdown.await;
            tracing::info!(service = service_name, "shutting down: health NOT_SERVING, draining");
            let _ = health_stop_tx.send(true);
            for name in &names {
                report(&reporter, service_name, name, false).await;
            }
            for name in &check_names {
                report(&reporter, service_name, name, false).await;
            }
            tokio::time::sleep(timings.drain_delay).await;
            let _ = closed_tx.send(());
        }
    };

    let limits = spec.limits;
    tracing::info!(
        service = service_name,
        %addr,
        max_connections = limits.max_connections,
        "serving gRPC"
    );
    let mut builder = Server::builder();
    if let Some(limit) = spec.request_timeout {
        builder = builder.timeout(limit);
    }
    let server = builder
        .http2_max_header_list_size(64 * 1024)
        .http2_keepalive_interval(Some(limits.http2_keepalive_interval))
        .http2_keepalive_timeout(Some(limits.http2_keepalive_timeout))
        .max_concurrent_streams(limits.max_concurrent_streams)
        .concurrency_limit_per_connection(limits.concurrency_per_connection)
        .trace_fn(crate::telemetry::rpc_span)
        .layer(crate::telemetry::AccessLayer {
            service: service_name,
            slow: spec.slow_call,
        })
        .layer(CatchPanicLayer)
        .layer(crate::auth::AuthLayer::new(spec.auth))
        .add_routes(routes)
        .serve_with_incoming_shutdown(
            crate::limits::CappedIncoming::new(listener, service_name, &limits),
            signal,
        );
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

/// Reflection over every contract and health, for grpcurl.
fn reflection() -> tonic_reflection::server::Builder<'static> {
    tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(crm_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
}

/// Reports health entry `name` of `service` as serving or not, to health clients and in the
/// metrics (`crm.health.serving`).
async fn report(reporter: &tonic_health::server::HealthReporter, service: &'static str, name: &str, serving: bool) {
    let status = if serving {
        ServingStatus::Serving
    } else {
        ServingStatus::NotServing
    };
    reporter.set_service_status(name, status).await;
    crate::metrics::health(service, name, serving);
}

/// Every 5 s, reports `names` SERVING while the database answers and NOT_SERVING while it does
/// not, until `stop` changes.
async fn follow_database(
    db: Db,
    reporter: tonic_health::server::HealthReporter,
    service: &'static str,
    names: Vec<&'static str>,
    mut stop: watch::Receiver<bool>,
) {
    let mut serving = true;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(5)) => {}
            _ = stop.changed() => return,
        }
        let ok = db.ping().await;
        if ok != serving {
            serving = ok;
            tracing::warn!(database_reachable = ok, "health changed");
            for name in &names {
                report(&reporter, service, name, ok).await;
            }
        }
    }
}

/// Reports the health entry `name` as `rx` says (SERVING while true), until `stop` changes.
async fn mirror_check(
    name: String,
    mut rx: watch::Receiver<bool>,
    reporter: tonic_health::server::HealthReporter,
    service: &'static str,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let ok = *rx.borrow_and_update();
        if *stop.borrow() {
            return;
        }
        report(&reporter, service, &name, ok).await;
        tokio::select! {
            changed = rx.changed() => if changed.is_err() { return },
            _ = stop.changed() => return,
        }
        tracing::info!(check = %name, ok = *rx.borrow(), "health changed");
    }
}

/// Answers a handler's panic as gRPC INTERNAL with a generic message, logged as an error with
/// the method and the panic's message. Without it the panic unwinds through the connection's
/// task and the client sees a reset stream (CANCELLED), a server fault reported as its own.
#[derive(Debug, Clone, Copy, Default)]
pub struct CatchPanicLayer;

impl<S> tower::Layer<S> for CatchPanicLayer {
    type Service = CatchPanic<S>;
    fn layer(&self, inner: S) -> CatchPanic<S> {
        CatchPanic { inner }
    }
}

/// The service [`CatchPanicLayer`] makes.
#[derive(Debug, Clone)]
pub struct CatchPanic<S> {
    inner: S,
}

impl<S, B, RB> tower::Service<http::Request<B>> for CatchPanic<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<RB>>,
    S::Future: Send + 'static,
    RB: Default,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = CatchPanicFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let method = req.uri().path().to_string();
        match std::panic::catch_unwind(AssertUnwindSafe(|| self.inner.call(req))) {
            Ok(fut) => CatchPanicFuture {
                method,
                inner: Some(Box::pin(fut)),
            },
            Err(payload) => {
                log_panic(&method, payload.as_ref());
                CatchPanicFuture { method, inner: None }
            }
        }
    }
}

/// The future of [`CatchPanic`]: the handler's, or INTERNAL once it has panicked.
pub struct CatchPanicFuture<F> {
    method: String,
    inner: Option<Pin<Box<F>>>,
}

impl<F, RB, E> Future for CatchPanicFuture<F>
where
    F: Future<Output = std::result::Result<http::Response<RB>, E>>,
    RB: Default,
{
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let Some(fut) = this.inner.as_mut() else {
            return Poll::Ready(Ok(panicked()));
        };
        match std::panic::catch_unwind(AssertUnwindSafe(|| fut.as_mut().poll(cx))) {
            Ok(poll) => poll,
            Err(payload) => {
                this.inner = None;
                log_panic(&this.method, payload.as_ref());
                Poll::Ready(Ok(panicked()))
            }
        }
    }
}

fn panicked<RB: Default>() -> http::Response<RB> {
    tonic::Status::internal("internal error").into_http()
}

fn log_panic(method: &str, payload: &(dyn std::any::Any + Send)) {
    let message = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)");
    tracing::error!(rpc.method = %method, panic = %message, "handler panicked; answered INTERNAL");
}

/// Runs the producer of a server stream on a task of its own. An error it returns becomes
/// the stream's last item; a panic becomes INTERNAL (logged with `what`), so a stream whose
/// producer died never ends as if it were complete.
pub fn spawn_stream<T, F>(
    what: &'static str,
    tx: tokio::sync::mpsc::Sender<std::result::Result<T, tonic::Status>>,
    work: F,
) where
    T: Send + 'static,
    F: Future<Output = Result<()>> + Send + 'static,
{
    tokio::spawn(async move {
        let status = match tokio::spawn(work).await {
            Ok(Ok(())) => return,
            Ok(Err(e)) => tonic::Status::from(e),
            Err(join) => {
                match join.try_into_panic() {
                    Ok(payload) => log_panic(what, payload.as_ref()),
                    Err(join) => tracing::error!(rpc.method = what, error = %join, "stream producer stopped"),
                }
                tonic::Status::internal("internal error")
            }
        };
        let _ = tx.send(Err(status)).await;
    });
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

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use tonic::Code;
    use tonic::body::Body;
    use tonic_health::pb::{HealthCheckRequest, HealthCheckResponse};

    use super::*;

    /// A service whose `/test.Boom/Panic` panics in its future and `/test.Boom/PanicInCall`
    /// while it is being called.
    #[derive(Debug, Clone)]
    struct Boom;

    impl tonic::server::NamedService for Boom {
        const NAME: &'static str = "test.Boom";
    }

    impl tower::Service<http::Request<Body>> for Boom {
        type Response = http::Response<Body>;
        type Error = Infallible;
        type Future = Pin<Box<dyn Future<Output = std::result::Result<http::Response<Body>, Infallible>> + Send>>;

        fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<std::result::Result<(), Infallible>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, req: http::Request<Body>) -> Self::Future {
            let path = req.uri().path().to_string();
            if path.ends_with("/PanicInCall") {
                panic!("boom while calling {path}");
            }
            Box::pin(async move {
                tokio::task::yield_now().await;
                if path.ends_with("/Panic") {
                    let index = path.len() + 10;
                    // An input-reachable slice out of range, as the filter parser once had.
                    let _ = &path[..index];
                }
                Ok(tonic::Status::unimplemented("no such method").into_http())
            })
        }
    }

    async fn start(limits: crate::limits::ConnectionLimits) -> (std::net::SocketAddr, watch::Sender<bool>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, mut stopped) = watch::channel(false);
        let (background, _) = watch::channel(false);
        let spec = ServeSpec {
            name: "test",
            grpc_services: vec!["test.Boom"],
            routes: Routes::new(Boom),
            db: None,
            health_checks: Vec::new(),
            auth: None,
            request_timeout: None,
            shutdown: ShutdownTimings {
                drain_delay: Duration::ZERO,
                grace: Duration::from_millis(100),
            },
            limits,
            slow_call: Duration::from_secs(1),
        };
        tokio::spawn(async move {
            let shutdown = async move {
                let _ = stopped.wait_for(|s| *s).await;
            };
            serve(listener, spec, shutdown, background).await.unwrap();
        });
        (addr, stop)
    }

    async fn call(channel: tonic::transport::Channel, path: &'static str) -> std::result::Result<(), tonic::Status> {
        let mut grpc = tonic::client::Grpc::new(channel);
        grpc.ready()
            .await
            .map_err(|e| tonic::Status::unavailable(e.to_string()))?;
        grpc.unary(
            tonic::Request::new(HealthCheckRequest::default()),
            http::uri::PathAndQuery::from_static(path),
            crm_proto::codec::ProtoCodec::<HealthCheckRequest, HealthCheckResponse>::default(),
        )
        .await
        .map(|_| ())
    }

    async fn channel(addr: std::net::SocketAddr) -> tonic::transport::Channel {
        tonic::transport::Channel::from_shared(format!("http://{addr}"))
            .unwrap()
            .connect()
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_panicking_handler_answers_internal_and_the_connection_lives_on() {
        let (addr, _stop) = start(Default::default()).await;
        let channel = channel(addr).await;
        for path in ["/test.Boom/Panic", "/test.Boom/PanicInCall"] {
            let status = call(channel.clone(), path).await.unwrap_err();
            assert_eq!(status.code(), Code::Internal, "{path}: {status:?}");
            assert_eq!(status.message(), "internal error", "nothing of the panic leaks");
        }
        // The same connection still serves, both the other methods and health.
        let status = call(channel.clone(), "/test.Boom/Other").await.unwrap_err();
        assert_eq!(status.code(), Code::Unimplemented);
        call(channel, "/grpc.health.v1.Health/Check").await.unwrap();
    }

    #[tokio::test]
    async fn a_stream_whose_producer_panics_ends_with_internal() {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<std::result::Result<u32, tonic::Status>>(4);
        let producer = tx.clone();
        spawn_stream("test export", tx, async move {
            producer.send(Ok(1)).await.unwrap();
            let rows: Vec<u32> = Vec::new();
            // A bug in a producer: indexing past the end.
            producer.send(Ok(rows[usize::from(rows.is_empty())])).await.unwrap();
            Ok(())
        });
        assert_eq!(rx.recv().await.unwrap().unwrap(), 1);
        let last = rx.recv().await.unwrap().unwrap_err();
        assert_eq!(last.code(), Code::Internal);
        assert!(rx.recv().await.is_none());

        let (tx, mut rx) = tokio::sync::mpsc::channel::<std::result::Result<u32, tonic::Status>>(4);
        spawn_stream("test export", tx, async { Err(Error::invalid("filter", "BAD", "bad")) });
        assert_eq!(rx.recv().await.unwrap().unwrap_err().code(), Code::InvalidArgument);
        let (tx, mut rx) = tokio::sync::mpsc::channel::<std::result::Result<u32, tonic::Status>>(4);
        spawn_stream("test export", tx, async { Ok(()) });
        assert!(rx.recv().await.is_none(), "a producer that finishes ends the stream");
    }

    /// Reads what a peer sends next: `Ok(0)` once it has closed.
    async fn read_some(stream: &tokio::net::TcpStream) -> std::io::Result<usize> {
        let mut buf = [0u8; 64];
        loop {
            stream.readable().await?;
            match stream.try_read(&mut buf) {
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
                other => return other,
            }
        }
    }

    #[tokio::test]
    async fn connections_past_the_cap_are_closed_and_calls_work_once_they_go() {
        let cap = 3;
        let limits = crate::limits::ConnectionLimits {
            max_connections: cap,
            ..Default::default()
        };
        let (addr, _stop) = start(limits).await;
        // Idle connections that never send a byte take every place.
        let mut idle = Vec::new();
        for _ in 0..cap {
            idle.push(tokio::net::TcpStream::connect(addr).await.unwrap());
        }
        // Each one past the cap is closed by the server: the read ends, it does not hang.
        for extra in 1..=3 {
            let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
            let read = tokio::time::timeout(Duration::from_secs(10), read_some(&stream))
                .await
                .unwrap_or_else(|_| panic!("connection {extra} past the cap is still open"));
            assert!(matches!(read, Ok(0) | Err(_)), "closed, not answered: {read:?}");
        }
        // The idle connections under the cap are open (at most the server's HTTP/2 preface
        // arrives on them).
        for stream in &idle {
            if let Ok(read) = tokio::time::timeout(Duration::from_millis(100), read_some(stream)).await {
                assert!(
                    matches!(read, Ok(n) if n > 0),
                    "an idle connection under the cap was closed: {read:?}"
                );
            }
        }
        drop(idle);
        // Once they have gone, a normal call gets a place again.
        let mut last = String::new();
        for _ in 0..50 {
            let attempt = tokio::time::timeout(Duration::from_secs(2), async {
                let channel = tonic::transport::Channel::from_shared(format!("http://{addr}"))
                    .unwrap()
                    .connect()
                    .await
                    .map_err(|e| tonic::Status::unavailable(e.to_string()))?;
                call(channel, "/grpc.health.v1.Health/Check").await
            })
            .await;
            match attempt {
                Ok(Ok(())) => return,
                other => last = format!("{other:?}"),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("no call got through after the idle connections closed: {last}");
    }
}
