//! The SQL of backups: the online snapshot of a database and the check of a copy.

// The suite's only SQL lives here (clippy.toml disallows running it elsewhere).
#![allow(clippy::disallowed_methods)]

use std::path::Path;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions, Connection};

use super::Error;

/// How long a statement waits for a lock before failing (a running suite writes meanwhile).
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Writes a consistent copy of the database `source` to `target` (which must not exist) with
/// `VACUUM INTO`: one read transaction, so it is a single point in time, and writers of a
/// database in WAL mode carry on while it runs. The source is opened as it is: its journal
/// mode is not touched and a missing file is not created.
pub async fn snapshot(source: &Path, target: &Path) -> Result<(), Error> {
    let target_name = target.to_str().ok_or_else(|| Error::NotUtf8(target.to_path_buf()))?;
    let mut conn = open(source).await?;
    let copied = sqlx::query("VACUUM INTO ?")
        .bind(target_name)
        .execute(&mut conn)
        .await
        .map_err(|e| Error::sqlite(format!("snapshot {} into {}", source.display(), target.display()), e));
    close(conn, source).await?;
    copied.map(|_| ())
}

/// Runs `PRAGMA integrity_check` on `file`: `ok`, or the problems SQLite lists.
pub async fn integrity_check(file: &Path) -> Result<Vec<String>, Error> {
    let mut conn = open(file).await?;
    let report = sqlx::query_scalar::<_, String>("PRAGMA integrity_check")
        .fetch_all(&mut conn)
        .await
        .map_err(|e| Error::sqlite(format!("check {}", file.display()), e));
    close(conn, file).await?;
    report
}

/// Opens an existing database file, never creating one.
async fn open(file: &Path) -> Result<SqliteConnection, Error> {
    SqliteConnectOptions::new()
        .filename(file)
        .create_if_missing(false)
        .busy_timeout(BUSY_TIMEOUT)
        .connect()
        .await
        .map_err(|e| Error::sqlite(format!("open {}", file.display()), e))
}

async fn close(conn: SqliteConnection, file: &Path) -> Result<(), Error> {
    conn.close()
        .await
        .map_err(|e| Error::sqlite(format!("close {}", file.display()), e))
}
