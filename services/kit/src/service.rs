//! The service builder: what every service does between `main` and serving, written once.
//!
//! A service's `run` reads as the list of what is its own:
//!
//! ```ignore
//! let mut service = Service::connect("sales", &config.service, MIGRATIONS).await?;
//! service.verify_with_identity().await?;
//! pipelines::seed_default(service.db()).await?;
//! service.follow_handovers(Arc::new(events::Sales), config.follow_identity);
//! service.every("weekly forecast snapshot", period, move |db| async move { ... });
//! service.add(SalesServiceServer::new(api).max_decoding_message_size(service.max_request_bytes()));
//! service.serve(listener, shutdown).await
//! ```
//!
//! [`Service::connect`] connects the pool and applies the kit's own migrations, then the
//! service's ([`MIGRATIONS`]: idempotency, the outbox and its consumers, handover progress,
//! document numbers, field history, documents), so no service lists them. Publishing events
//! ([`Service::publish_events`]) starts the outbox's sequencer, serves its feed and prunes it
//! per the retention settings. [`Service::serve`] serves with health, reflection, limits and
//! the gate (see [`crate::serve`]), and once the listener has closed, waits for every task the
//! builder started, then closes the pool.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tonic::server::NamedService;
use tonic::service::Routes;

use crate::auth::Gate;
use crate::config::ServiceConfig;
use crate::db::{Db, Migration};
use crate::errors::Result;
use crate::serve::{ServeSpec, Stopping};

/// The kit's own tables, applied before a service's migrations by [`Service::connect`].
pub const MIGRATIONS: [Migration; 10] = [
    crate::idempotency::MIGRATION,
    crate::events::MIGRATIONS[0],
    crate::events::MIGRATIONS[1],
    crate::events::MIGRATIONS[2],
    crate::handover::MIGRATION,
    crate::numbering::MIGRATION,
    crate::events::retention::MIGRATION,
    crate::history::MIGRATION,
    crate::documents::MIGRATIONS[0],
    crate::documents::MIGRATIONS[1],
];

/// The largest response any service sends (an export chunk, a page of a big list).
pub const MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;

/// A service being assembled: its database, its routes, its background work.
pub struct Service {
    name: &'static str,
    config: ServiceConfig,
    db: Db,
    stop_tx: watch::Sender<bool>,
    stopping: Stopping,
    grpc_services: Vec<&'static str>,
    routes: Routes,
    health_checks: Vec<(String, watch::Receiver<bool>)>,
    gate: Option<Gate>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    handovers: Option<crate::handover::Wiring>,
    outbox: Option<crate::events::Outbox>,
    revocations: Option<crate::auth::RevocationWatch>,
    _pool_observed: crate::metrics::PoolObserved,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service")
            .field("name", &self.name)
            .field("grpc_services", &self.grpc_services)
            .field("tasks", &self.tasks.len())
            .finish_non_exhaustive()
    }
}

impl Service {
    /// Connects to the configured database (SQLite under the data directory by default, named
    /// after the service) and applies the kit's [`MIGRATIONS`], then `migrations`.
    pub async fn connect(name: &'static str, config: &ServiceConfig, migrations: &[Migration]) -> Result<Service> {
        let url = config.database_url_or(name);
        let db = Db::connect(&url, config.db_max_connections).await?;
        migrate(&db, migrations).await?;
        if !config.metrics {
            crate::metrics::set_enabled(false);
        }
        let pool_observed = crate::metrics::observe_pool(name, &db);
        let (stop_tx, stopping) = Stopping::new();
        Ok(Service {
            name,
            config: config.clone(),
            db,
            stop_tx,
            stopping,
            grpc_services: Vec::new(),
            routes: Routes::default(),
            health_checks: Vec::new(),
            gate: None,
            tasks: Vec::new(),
            handovers: None,
            outbox: None,
            revocations: None,
            _pool_observed: pool_observed,
        })
    }

    /// The service's database.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The signal background work watches to stop.
    pub fn stopping(&self) -> Stopping {
        self.stopping.clone()
    }

    /// The largest request the service decodes (for its server's `max_decoding_message_size`).
    pub fn max_request_bytes(&self) -> usize {
        self.config.max_request_bytes
    }

    /// Verifies callers with the keys the identity service publishes (fetched now, so the first
    /// call does not wait), and watches its revocations while the service serves.
    pub async fn verify_with_identity(&mut self) -> Result<()> {
        let verifier = crate::auth::Verifier::from_identity(&self.config.identity_url)?;
        self.verify_with(verifier).await;
        Ok(())
    }

    /// Verifies callers with `verifier` (identity verifies with its own keys), watching its
    /// revocations: a deactivated employee's tokens are refused within a poll.
    pub async fn verify_with(&mut self, verifier: Arc<crate::auth::Verifier>) {
        verifier.prefetch().await;
        self.revocations = Some(verifier.watch_revocations(self.config.revocation_poll()));
        self.gate = Some(Gate::Verify(verifier));
    }

    /// Admits callers through `gate` (benchmarks compare the verifying gate with a trusting one).
    pub fn gate(&mut self, gate: Gate) {
        self.gate = Some(gate);
    }

    /// Serves `server`, reporting its health under its gRPC name.
    pub fn add<S>(&mut self, server: S)
    where
        S: tower::Service<
                http::Request<tonic::body::Body>,
                Response = http::Response<tonic::body::Body>,
                Error = std::convert::Infallible,
            > + NamedService
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
    {
        self.grpc_services.push(S::NAME);
        let routes = std::mem::take(&mut self.routes);
        self.routes = routes.add_service(server);
    }

    /// Announces the service's changes: starts the outbox's sequencer, serves its event feed
    /// (`crm.events.v1.EventFeed`) and prunes events every registered consumer has read once
    /// they are older than the retention setting. Returns the outbox, for services that
    /// publish outside a command transaction.
    pub fn publish_events(&mut self) -> crate::events::Outbox {
        if let Some(outbox) = &self.outbox {
            return outbox.clone();
        }
        let (outbox, sequencer) = crate::events::Outbox::start(self.db.clone(), self.stopping.clone());
        self.tasks.push(sequencer);
        self.tasks.extend(crate::events::retention::spawn_pruning(
            self.db.clone(),
            self.config.outbox_retention(),
            self.config.outbox_prune_interval(),
            self.stopping.clone(),
        ));
        self.tasks.push(crate::events::retention::spawn_sampling(
            self.db.clone(),
            self.name,
            Duration::from_millis(self.config.metrics_sample_ms.max(10)),
            self.config.outbox_retention().map(|r| r.consumer_expiry),
            self.stopping.clone(),
        ));
        self.add(outbox.feed());
        self.outbox = Some(outbox.clone());
        outbox
    }

    /// Applies identity's departures and moves to the service's records through `owner`
    /// (following identity's feed when `follow_identity`), and answers identity's handover
    /// dry-run counts. Publishes the service's own events too.
    pub fn follow_handovers(&mut self, owner: Arc<dyn crate::handover::Owner>, follow_identity: bool) {
        let outbox = self.publish_events();
        let wiring = crate::handover::Wiring::start(
            &self.db,
            &self.config,
            self.name,
            owner,
            follow_identity,
            &self.stopping,
        );
        self.health_checks.extend(wiring.health_checks());
        self.add(wiring.counts_server());
        self.handovers = Some(wiring);
        drop(outbox);
    }

    /// Runs `task` in the background; [`Service::serve`] waits for it after the listener has
    /// closed, so it should end when [`Service::stopping`] fires.
    pub fn spawn(&mut self, task: impl Future<Output = ()> + Send + 'static) {
        self.tasks.push(tokio::spawn(task));
    }

    /// Runs `job` every `period` until the service stops, the first time one period after
    /// start (`None`: never, the job runs only on demand). A failure is logged as `what`
    /// failing and retried next period.
    pub fn every<F, Fut>(&mut self, what: &'static str, period: Option<Duration>, job: F)
    where
        F: FnMut(Db) -> Fut + Send + 'static,
        Fut: Future<Output = Result<()>> + Send,
    {
        self.periodic(what, period, false, job);
    }

    /// [`Service::every`], running the job at start too (a check whether something is due).
    pub fn now_and_every<F, Fut>(&mut self, what: &'static str, period: Option<Duration>, job: F)
    where
        F: FnMut(Db) -> Fut + Send + 'static,
        Fut: Future<Output = Result<()>> + Send,
    {
        self.periodic(what, period, true, job);
    }

    fn periodic<F, Fut>(&mut self, what: &'static str, period: Option<Duration>, at_start: bool, mut job: F)
    where
        F: FnMut(Db) -> Fut + Send + 'static,
        Fut: Future<Output = Result<()>> + Send,
    {
        let Some(period) = period else {
            return;
        };
        let db = self.db.clone();
        let mut stopping = self.stopping.clone();
        self.spawn(async move {
            let mut run = at_start;
            loop {
                if run && let Err(e) = job(db.clone()).await {
                    tracing::warn!(error = %e, job = what, "periodic job failed; retrying next period");
                }
                run = true;
                tokio::select! {
                    _ = stopping.wait() => return,
                    _ = tokio::time::sleep(period) => {}
                }
            }
        });
    }

    /// Serves on `listener` until `shutdown` completes, then drains, waits for the background
    /// work and closes the pool.
    pub async fn serve(mut self, listener: TcpListener, shutdown: impl Future<Output = ()> + Send) -> Result<()> {
        if let Some(addr) = self.config.metrics_addr {
            let metrics = crate::serve::bind(addr).await?;
            let stopping = self.stopping.clone();
            self.spawn(crate::metrics::serve(metrics, stopping));
        }
        let spec = ServeSpec {
            name: self.name,
            grpc_services: self.grpc_services,
            routes: self.routes,
            db: Some(self.db.clone()),
            health_checks: self.health_checks,
            auth: self.gate,
            request_timeout: self.config.request_timeout(),
            shutdown: self.config.shutdown(),
            limits: self.config.connection_limits(),
            slow_call: Duration::from_millis(self.config.slow_call_ms),
        };
        let result = crate::serve::serve(listener, spec, shutdown, self.stop_tx).await;
        if let Some(wiring) = self.handovers {
            wiring.join().await;
        }
        for task in self.tasks {
            let _ = task.await;
        }
        drop(self.revocations);
        self.db.pool.close().await;
        result
    }
}

/// Applies the kit's [`MIGRATIONS`], then a service's `migrations` (the kit's tables first, so
/// a service's migration may move its rows into them): what [`Service::connect`] does, for
/// tools and baselines that write a service's tables without running it.
pub async fn migrate(db: &Db, migrations: &[Migration]) -> Result<()> {
    db.migrate(&MIGRATIONS).await?;
    db.migrate(migrations).await
}

/// Binds `config`'s address (or `default_port` on all interfaces) for [`Service::serve`].
pub async fn bind(config: &ServiceConfig, default_port: u16) -> Result<TcpListener> {
    crate::serve::bind(config.listen_or(default_port)).await
}
