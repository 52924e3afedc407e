//! One pool for both backends: SQLite (embedded, the default) and PostgreSQL (production),
//! through sqlx's `Any` driver. SQLite gets WAL and the other pragmas a server needs; write
//! transactions take SQLite's write lock up front so concurrent writers queue instead of
//! failing; migrations are portable SQL applied at start-up, plus the occasional migration for
//! one backend where it has a better tool for the job (PostgreSQL's GIN indexes, say).

use std::str::FromStr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Once, OnceLock};
use std::time::Duration;

use std::sync::Arc;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{Any, AnyPool, ConnectOptions, Transaction};
use tokio::sync::{Mutex, Notify, OwnedMutexGuard};

use crate::errors::{Error, Result};

/// Which database engine is behind a pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A service's database: the pool and its backend.
#[derive(Debug, Clone)]
pub struct Db {
    pub pool: AnyPool,
    pub backend: Backend,
    /// SQLite has one writer at a time; writers queue here (fair, no sleeping) instead of in
    /// SQLite's busy handler, which backs off with sleeps and wastes most of the time under load.
    writer: Option<Arc<Mutex<()>>>,
    /// Signalled after every write transaction commits: the outbox sequencer wakes on it, so an
    /// event is published moments after its transaction commits instead of at the next poll.
    commits: Arc<Notify>,
    /// What the metrics report of the pool.
    stats: Arc<PoolStats>,
}

/// The pool's figures the metrics read: writers waiting, and the service it belongs to.
#[derive(Debug, Default)]
struct PoolStats {
    max_connections: u32,
    waiting_writers: AtomicI64,
    service: OnceLock<&'static str>,
}

/// Counts a writer as waiting until dropped (also when its wait is cancelled).
struct Waiting<'a>(&'a AtomicI64);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A write transaction. On SQLite it also holds the process's writer slot until it ends.
#[derive(Debug)]
pub struct WriteTx {
    tx: Transaction<'static, Any>,
    _writer: Option<OwnedMutexGuard<()>>,
    commits: Arc<Notify>,
}

impl WriteTx {
    /// Commits (and frees the writer slot).
    pub async fn commit(self) -> Result<()> {
        self.tx.commit().await?;
        self.commits.notify_one();
        Ok(())
    }

    /// Rolls back (and frees the writer slot); dropping does the same.
    pub async fn rollback(self) -> Result<()> {
        self.tx.rollback().await?;
        Ok(())
    }
}

impl std::ops::Deref for WriteTx {
    type Target = sqlx::AnyConnection;
    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}

/// A service's migrations from the files of its `migrations/` folder, each `(version, name,
/// file)` or `(version, name, file, Backend)` for a file of one backend only:
///
/// ```ignore
/// pub const MIGRATIONS: &[Migration] = crm_kit::migrations![
///     (1, "init", "0001_init.sql"),
///     (2, "search_index_gin", "0002_search_index_gin.postgres.sql", Postgres),
/// ];
/// ```
#[macro_export]
macro_rules! migrations {
    ($( ($version:literal, $name:literal, $file:literal $(, $only:ident)?) ),* $(,)?) => {
        &[$(
            $crate::db::Migration {
                version: $version,
                name: $name,
                sql: include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/", $file)),
                only_on: $crate::migrations!(@only $($only)?),
            }
        ),*]
    };
    (@only) => { None };
    (@only $backend:ident) => { Some($crate::db::Backend::$backend) };
}

/// One migration: a version, a name, and SQL (several statements allowed).
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
    /// The backend the SQL is for; `None` for portable SQL. On the other backend the version
    /// is recorded as applied without running anything.
    pub only_on: Option<Backend>,
}

static DRIVERS: Once = Once::new();

/// The backend a URL points at.
pub fn backend_of(url: &str) -> Result<Backend> {
    if url.starts_with("sqlite:") {
        Ok(Backend::Sqlite)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Backend::Postgres)
    } else {
        Err(Error::Internal(format!(
            "database URL must start with sqlite:// or postgres:// (got {})",
            url.split(':').next().unwrap_or("")
        )))
    }
}

impl Db {
    /// Connects, creating the SQLite file (and its folder) when missing.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Db> {
        DRIVERS.call_once(sqlx::any::install_default_drivers);
        let backend = backend_of(url)?;
        let mut url = url.to_string();
        if backend == Backend::Sqlite {
            let path = url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
            let path = path.split('?').next().unwrap_or(path);
            if !path.is_empty()
                && path != ":memory:"
                && let Some(parent) = std::path::Path::new(path).parent()
                && !parent.as_os_str().is_empty()
            {
                std::fs::create_dir_all(parent)
                    .map_err(|e| Error::Internal(format!("create data dir {}: {e}", parent.display())))?;
            }
            if !url.contains("mode=") {
                url.push_str(if url.contains('?') { "&mode=rwc" } else { "?mode=rwc" });
            }
        }
        let options = AnyConnectOptions::from_str(&url)
            .map_err(|e| Error::Internal(format!("bad database URL: {e}")))?
            .log_statements(tracing::log::LevelFilter::Trace)
            .log_slow_statements(tracing::log::LevelFilter::Warn, Duration::from_millis(500));
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        for pragma in [
                            "PRAGMA journal_mode = WAL",
                            "PRAGMA synchronous = NORMAL",
                            "PRAGMA foreign_keys = ON",
                            "PRAGMA busy_timeout = 10000",
                            "PRAGMA cache_size = -32000",
                            "PRAGMA temp_store = MEMORY",
                        ] {
                            sqlx::query(pragma).execute(&mut *conn).await?;
                        }
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .map_err(|e| Error::Unavailable(format!("cannot connect to the database: {e}")))?;
        let writer = (backend == Backend::Sqlite).then(|| Arc::new(Mutex::new(())));
        Ok(Db {
            pool,
            backend,
            writer,
            commits: Arc::new(Notify::new()),
            stats: Arc::new(PoolStats {
                max_connections: max_connections.max(1),
                ..PoolStats::default()
            }),
        })
    }

    /// The most connections the pool opens.
    pub fn max_connections(&self) -> u32 {
        self.stats.max_connections
    }

    /// Write transactions waiting for a connection (and, on SQLite, the writer slot) now.
    pub fn pending_writers(&self) -> i64 {
        self.stats.waiting_writers.load(Ordering::Relaxed)
    }

    /// Names the service the pool belongs to in the metrics (the first name given stays).
    pub(crate) fn name_for_metrics(&self, service: &'static str) {
        let _ = self.stats.service.set(service);
    }

    /// Begins a transaction that will write. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so two writers never deadlock upgrading read locks.
    pub async fn begin_write(&self) -> Result<WriteTx> {
        let started = std::time::Instant::now();
        self.stats.waiting_writers.fetch_add(1, Ordering::Relaxed);
        let waiting = Waiting(&self.stats.waiting_writers);
        let writer = match &self.writer {
            Some(slot) => Some(slot.clone().lock_owned().await),
            None => None,
        };
        let tx = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        };
        drop(waiting);
        if let Some(service) = self.stats.service.get() {
            crate::metrics::pool_waited(service, started.elapsed());
        }
        Ok(WriteTx {
            tx,
            _writer: writer,
            commits: self.commits.clone(),
        })
    }

    /// Completes after the next write transaction of this pool commits (or at once when one
    /// committed since the last wait).
    pub async fn committed(&self) {
        self.commits.notified().await;
    }

    /// Counts a write that committed outside a [`WriteTx`] (one autocommitted statement) as a
    /// commit, so whatever waits in [`Db::committed`] (the outbox's sequencer) wakes at once.
    pub fn wrote(&self) {
        self.commits.notify_one();
    }

    /// Applies the migrations not yet applied, each in its own transaction, in version order.
    pub fn migrate<'a>(
        &'a self,
        migrations: &'a [Migration],
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<()>> + Send + 'a>> {
        // Boxed as Send here, where the lifetimes are concrete: callers that need a Send
        // future otherwise trip over rustc's higher-ranked lifetime inference for sqlx executors.
        Box::pin(self.migrate_inner(migrations))
    }

    async fn migrate_inner(&self, migrations: &[Migration]) -> Result<()> {
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS crm_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
        )
        .execute(&self.pool)
        .await?;
        let mut sorted = migrations.to_vec();
        sorted.sort_by_key(|m| m.version);
        for m in sorted {
            let mut tx = self.begin_write().await?;
            let done: Option<i64> = sqlx::query_scalar("SELECT version FROM crm_migrations WHERE version = $1")
                .bind(m.version)
                .fetch_optional(&mut *tx)
                .await?;
            if done.is_some() {
                continue;
            }
            let statements = match m.only_on {
                Some(b) if b != self.backend => Vec::new(),
                _ => split_statements(m.sql),
            };
            for statement in statements {
                sqlx::query(&statement)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| Error::Internal(format!("migration {} ({}) failed: {e}", m.version, m.name)))?;
            }
            let inserted = sqlx::query("INSERT INTO crm_migrations (version, name, applied_at) VALUES ($1, $2, $3)")
                .bind(m.version)
                .bind(m.name)
                .bind(crate::time::now_micros())
                .execute(&mut *tx)
                .await;
            match inserted {
                Ok(_) => tx.commit().await?,
                // Another replica applied it at the same moment: its copy stands.
                Err(e) if crate::errors::is_unique_violation(&e) => tx.rollback().await?,
                Err(e) => return Err(e.into()),
            }
            tracing::info!(version = m.version, name = m.name, "migration applied");
        }
        Ok(())
    }

    /// Refreshes the planner's statistics of `tables` on PostgreSQL after a bulk write changed
    /// its size a lot: a query planned with the statistics of a table a thousand times smaller
    /// scans where it should probe, and autovacuum may be slow to notice or switched off.
    /// SQLite's planner does without statistics, so there it does nothing.
    pub async fn refresh_statistics(&self, tables: &[&str]) -> Result<()> {
        if self.backend == Backend::Postgres && !tables.is_empty() {
            let started = std::time::Instant::now();
            let tables = tables.join(", ");
            sqlx::query(&format!("ANALYZE {tables}")).execute(&self.pool).await?;
            tracing::debug!(
                tables,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "statistics refreshed"
            );
        }
        Ok(())
    }

    /// Moves the entries of PostgreSQL GIN `indexes` waiting in their pending lists into the
    /// indexes proper, after a bulk write. A GIN index built with `fastupdate` queues new
    /// entries in a list that every search reads from end to end until a vacuum or a full
    /// list merges it, so right after an import every search paid for scanning up to the
    /// list's limit (40 ms at 20,000 fresh customers, against 1 ms merged). A failure is
    /// logged, not returned: the bulk write stands and the next vacuum merges the list.
    /// SQLite has no such list, so there it does nothing.
    pub async fn merge_pending_index_entries(&self, indexes: &[&str]) {
        if self.backend != Backend::Postgres {
            return;
        }
        for index in indexes {
            let started = std::time::Instant::now();
            let merged = sqlx::query_scalar::<_, i64>("SELECT gin_clean_pending_list(CAST($1 AS regclass))")
                .bind(*index)
                .fetch_one(&self.pool)
                .await;
            match merged {
                Ok(pages) => tracing::debug!(
                    index,
                    pages,
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "pending index entries merged"
                ),
                Err(e) => tracing::warn!(index, error = %e, "pending index entries not merged"),
            }
        }
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> bool {
        sqlx::query_scalar::<_, i32>("SELECT 1")
            .fetch_one(&self.pool)
            .await
            .is_ok()
    }
}

/// Splits a migration into statements at `;`, ignoring `--` comments and quoted text. (One
/// prepared statement each: the Any driver's multi-statement path is not `Send`-friendly.)
pub fn split_statements(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut chars = sql.chars().peekable();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                current.push(c);
                if c == q {
                    quote = None;
                }
            }
            None => match c {
                '\'' | '"' => {
                    quote = Some(c);
                    current.push(c);
                }
                '-' if chars.peek() == Some(&'-') => {
                    for n in chars.by_ref() {
                        if n == '\n' {
                            current.push('\n');
                            break;
                        }
                    }
                }
                ';' => {
                    if !current.trim().is_empty() {
                        out.push(current.trim().to_string());
                    }
                    current.clear();
                }
                _ => current.push(c),
            },
        }
    }
    if !current.trim().is_empty() {
        out.push(current.trim().to_string());
    }
    out
}

/// How many rows of `params_per_row` bound parameters one multi-row statement should carry.
/// PostgreSQL takes thousands of parameters cheaply; SQLite (through sqlx) binds them at a cost
/// that grows faster than their number (4,000 two-column rows: 236 ms in one statement, 10 ms in
/// statements of 100 rows), so it gets small statements.
pub fn rows_per_statement(conn: &sqlx::AnyConnection, params_per_row: usize) -> usize {
    rows_per_statement_on(backend(conn), params_per_row)
}

/// [`rows_per_statement`] for a backend known without a connection.
pub fn rows_per_statement_on(backend: Backend, params_per_row: usize) -> usize {
    let budget = match backend {
        Backend::Sqlite => 240,
        Backend::Postgres => 16_000,
    };
    (budget / params_per_row.max(1)).max(1)
}

/// The backend behind a connection (for the few statements that differ between them).
pub fn backend(conn: &sqlx::AnyConnection) -> Backend {
    if conn.backend_name().eq_ignore_ascii_case("sqlite") {
        Backend::Sqlite
    } else {
        Backend::Postgres
    }
}

/// Converts a boolean to its storage form (BIGINT 0/1).
pub fn flag(b: bool) -> i64 {
    i64::from(b)
}

#[cfg(test)]
mod tests {
    #[test]
    fn statements_split_outside_comments_and_quotes() {
        let sql = "-- a comment; with a semicolon\nCREATE TABLE a (x TEXT DEFAULT ';');\n\nINSERT INTO a VALUES ('it''s'); -- trailing\n";
        assert_eq!(
            super::split_statements(sql),
            ["CREATE TABLE a (x TEXT DEFAULT ';')", "INSERT INTO a VALUES ('it''s')"]
        );
    }
}
