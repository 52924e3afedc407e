//! Backups of the suite's SQLite files. [`backup`] copies every service's database into a new
//! folder while the suite runs and writes; [`restore`] puts such a folder back into the data
//! directory while the suite is stopped.
//!
//! A backup folder holds one `<service>.db` per service database that was present, each a
//! consistent snapshot (`VACUUM INTO`, one read transaction per file; the files one after
//! another in the order of [`DATABASES`]) that passed `PRAGMA integrity_check`, and
//! [`MANIFEST`] listing them with their sizes and SHA-256 digests. Every file is written under a
//! temporary name and renamed once complete, and the manifest comes last: a folder without one
//! is not a complete backup.
//!
//! A restore holds the data directory's lock (no suite can run meanwhile, and a running one
//! makes it refuse), checks every digest before it touches anything, then swaps each database
//! in with a rename. What it replaces (with the `-wal` and `-shm` files beside it) is kept in
//! `replaced-<time>/` in the data directory, never deleted.

mod store;

use std::fmt;
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::lock::{DataDirLock, LockError};

/// The manifest's name in a backup folder.
pub const MANIFEST: &str = "manifest.json";

/// The suite's database files in the data directory, in the order they are copied: each
/// service's SQLite file is named after the service
/// (`crm_kit::config::ServiceConfig::database_url_or`). The followers of identity's event feed
/// (customers, sales) come before identity, so the position a restored follower has read up to
/// is never past the last event the restored identity holds, and it replays what follows. The
/// warehouse follows no feed yet.
pub const DATABASES: [&str; 4] = ["customers.db", "sales.db", "warehouse.db", "identity.db"];

/// The manifest format this version writes and reads.
const FORMAT: u32 = 1;

/// What a backup folder holds, as written to its [`MANIFEST`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// The manifest's format (1).
    pub format: u32,
    /// When the backup started (RFC 3339, UTC).
    pub started_at: String,
    /// The data directory it was taken from.
    pub data_dir: String,
    /// How long the whole backup took, in milliseconds.
    pub took_ms: u64,
    /// One entry per database copied.
    pub files: Vec<BackedUpFile>,
}

/// One database in a backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackedUpFile {
    /// The file's name, the same in the backup folder and in the data directory.
    pub name: String,
    /// Its size in bytes.
    pub bytes: u64,
    /// Its SHA-256 digest, lowercase hex.
    pub sha256: String,
    /// What `PRAGMA integrity_check` said of the copy (`ok`).
    pub integrity_check: String,
    /// How long its snapshot and check took, in milliseconds.
    pub took_ms: u64,
}

/// A backup written by [`backup`].
#[derive(Debug, Clone)]
pub struct Backup {
    /// The backup folder.
    pub dir: PathBuf,
    /// What was written to its manifest.
    pub manifest: Manifest,
}

/// What [`restore`] did.
#[derive(Debug, Clone)]
pub struct Restore {
    /// The data directory restored into.
    pub data_dir: PathBuf,
    /// The backup folder restored from.
    pub from: PathBuf,
    /// The backup's manifest; every file in it was restored.
    pub manifest: Manifest,
    /// Where the replaced files were kept, if any were there.
    pub replaced_dir: Option<PathBuf>,
    /// The files moved there (databases, `-wal` and `-shm`), under their new path.
    pub set_aside: Vec<PathBuf>,
}

/// Why a backup or a restore did not happen (or stopped).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No database of the suite in the data directory.
    #[error(
        "nothing to back up: no database of the suite ({}) in {}",
        DATABASES.join(", "),
        .data_dir.display()
    )]
    NothingToBackUp { data_dir: PathBuf },
    /// The backup folder is the data directory itself.
    #[error("{} is the data directory; back up into another folder", .dir.display())]
    IntoDataDir { dir: PathBuf },
    /// The backup folder already holds a complete backup.
    #[error(
        "{} already holds a backup ({MANIFEST}); it is left as it is: back up into a new folder",
        .dir.display()
    )]
    AlreadyBackedUp { dir: PathBuf },
    /// The backup folder holds a database from another (unfinished) backup.
    #[error(
        "{} already holds {file} (a backup without {MANIFEST}, not finished); it is left as it is: back up into a new folder",
        .dir.display()
    )]
    UnfinishedBackup { dir: PathBuf, file: String },
    /// A restore while a suite runs on the data directory.
    #[error("cannot restore while the suite runs: {0}; stop the suite first")]
    SuiteRunning(#[source] LockError),
    /// The data directory cannot be locked.
    #[error(transparent)]
    Lock(LockError),
    /// The folder holds no manifest, or one this version cannot read.
    #[error("{} is not a complete backup: {reason}", .dir.display())]
    NotABackup { dir: PathBuf, reason: String },
    /// A backed-up file does not match its manifest.
    #[error("{} does not match the backup's manifest: {reason}", .file.display())]
    Damaged { file: PathBuf, reason: String },
    /// A copy failed SQLite's integrity check.
    #[error("the copy of {} failed PRAGMA integrity_check: {report}", .file.display())]
    IntegrityCheck { file: PathBuf, report: String },
    /// SQLite is handed file names as text.
    #[error("{} is not a UTF-8 path", .0.display())]
    NotUtf8(PathBuf),
    /// A file operation failed.
    #[error("{action}: {source}")]
    Io {
        action: String,
        #[source]
        source: io::Error,
    },
    /// SQLite failed.
    #[error("{action}: {source}")]
    Sqlite {
        action: String,
        #[source]
        source: sqlx::Error,
    },
}

impl Error {
    fn io(action: impl Into<String>) -> impl FnOnce(io::Error) -> Error {
        let action = action.into();
        move |source| Error::Io { action, source }
    }

    fn sqlite(action: impl Into<String>, source: sqlx::Error) -> Error {
        Error::Sqlite {
            action: action.into(),
            source,
        }
    }
}

/// Backs up every suite database present in `data_dir` into the folder `to` (created when
/// missing; refused when it already holds a backup). Safe while the suite runs: each file is
/// one consistent point in time, and the suite keeps writing meanwhile.
pub async fn backup(data_dir: &Path, to: &Path) -> Result<Backup, Error> {
    let started = Instant::now();
    let started_at = crm_kit::time::format_rfc3339(crm_kit::time::now_micros());
    let present: Vec<&str> = DATABASES
        .into_iter()
        .filter(|name| data_dir.join(name).is_file())
        .collect();
    if present.is_empty() {
        return Err(Error::NothingToBackUp {
            data_dir: data_dir.to_path_buf(),
        });
    }
    fs::create_dir_all(to).map_err(Error::io(format!("create the backup folder {}", to.display())))?;
    if same_dir(data_dir, to) {
        return Err(Error::IntoDataDir { dir: to.to_path_buf() });
    }
    refuse_existing_backup(to)?;

    let mut files = Vec::with_capacity(present.len());
    for name in present {
        match back_up_file(&data_dir.join(name), to, name).await {
            Ok(file) => files.push(file),
            Err(e) => {
                // What this run wrote is not a backup; the next run starts clean.
                for file in &files {
                    let _ = fs::remove_file(to.join(&file.name));
                }
                return Err(e);
            }
        }
    }
    let manifest = Manifest {
        format: FORMAT,
        started_at,
        data_dir: data_dir.display().to_string(),
        took_ms: millis(started),
        files,
    };
    let json = serde_json::to_vec_pretty(&manifest).map_err(|e| Error::Io {
        action: "write the manifest".into(),
        source: e.into(),
    })?;
    let dir = to.to_path_buf();
    blocking(move || {
        let partial = dir.join(format!(".{MANIFEST}.partial"));
        fs::write(&partial, json).map_err(Error::io(format!("write {}", partial.display())))?;
        sync_file(&partial)?;
        rename(&partial, &dir.join(MANIFEST))?;
        sync_dir(&dir)
    })
    .await?;
    Ok(Backup {
        dir: to.to_path_buf(),
        manifest,
    })
}

/// Restores the backup in `from` into `data_dir`: refused while a suite runs there (it holds
/// the data directory's lock), and before anything changes when a file does not match the
/// manifest. The databases replaced, and the suite databases the backup does not have, are
/// kept in `replaced-<time>/` in the data directory.
pub async fn restore(data_dir: &Path, from: &Path) -> Result<Restore, Error> {
    let lock = DataDirLock::acquire(data_dir).map_err(|e| match e {
        LockError::Held { .. } => Error::SuiteRunning(e),
        e => Error::Lock(e),
    })?;
    let manifest = read_manifest(from)?;
    let (dir, source, files) = (data_dir.to_path_buf(), from.to_path_buf(), manifest.files.clone());
    let aside = blocking(move || restore_files(&dir, &source, &files)).await?;
    drop(lock);
    Ok(Restore {
        data_dir: data_dir.to_path_buf(),
        from: from.to_path_buf(),
        manifest,
        replaced_dir: aside.dir,
        set_aside: aside.moved,
    })
}

/// Checks every file of the backup in `from`, then puts each back into `data_dir`; the suite
/// databases the backup does not have are set aside as well, since the backup is the whole
/// state.
fn restore_files(data_dir: &Path, from: &Path, files: &[BackedUpFile]) -> Result<SetAside, Error> {
    for file in files {
        check_digest(&from.join(&file.name), file).map_err(|e| match e {
            Error::Damaged { file, reason } => Error::Damaged {
                file,
                reason: format!("{reason}; nothing was restored"),
            },
            e => e,
        })?;
    }
    let mut aside = SetAside::new(data_dir);
    for file in files {
        put_back(&from.join(&file.name), data_dir, file, &mut aside)?;
    }
    for name in DATABASES {
        if !files.iter().any(|f| f.name == name) {
            let live = data_dir.join(name);
            for path in [wal_of(&live, "-wal"), wal_of(&live, "-shm"), live] {
                aside.take(&path)?;
            }
        }
    }
    sync_dir(data_dir)?;
    Ok(aside)
}

/// Snapshots one database into `to/name` through a temporary name, checks the copy and
/// measures it.
async fn back_up_file(source: &Path, to: &Path, name: &str) -> Result<BackedUpFile, Error> {
    let started = Instant::now();
    let partial = to.join(format!(".{name}.partial"));
    // Left by a backup that was cut short; VACUUM INTO needs a fresh file.
    remove_if_present(&partial)?;
    store::snapshot(source, &partial).await?;
    let report = store::integrity_check(&partial).await?;
    if report != ["ok"] {
        let _ = fs::remove_file(&partial);
        return Err(Error::IntegrityCheck {
            file: source.to_path_buf(),
            report: report.join("; "),
        });
    }
    let (target, name) = (to.join(name), name.to_string());
    blocking(move || {
        sync_file(&partial)?;
        let (bytes, sha256) = digest(&partial)?;
        rename(&partial, &target)?;
        Ok(BackedUpFile {
            name,
            bytes,
            sha256,
            integrity_check: "ok".into(),
            took_ms: millis(started),
        })
    })
    .await
}

/// Refuses a folder that holds a backup, finished or not.
fn refuse_existing_backup(dir: &Path) -> Result<(), Error> {
    if dir.join(MANIFEST).exists() {
        return Err(Error::AlreadyBackedUp { dir: dir.to_path_buf() });
    }
    if let Some(file) = DATABASES.into_iter().find(|name| dir.join(name).exists()) {
        return Err(Error::UnfinishedBackup {
            dir: dir.to_path_buf(),
            file: file.into(),
        });
    }
    Ok(())
}

/// Reads and checks the manifest of the backup in `dir`.
fn read_manifest(dir: &Path) -> Result<Manifest, Error> {
    let not_a_backup = |reason: String| Error::NotABackup {
        dir: dir.to_path_buf(),
        reason,
    };
    let path = dir.join(MANIFEST);
    let text = match fs::read(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(not_a_backup(format!("it has no {MANIFEST}"))),
        Err(e) => return Err(Error::io(format!("read {}", path.display()))(e)),
    };
    let manifest: Manifest =
        serde_json::from_slice(&text).map_err(|e| not_a_backup(format!("{MANIFEST} cannot be read: {e}")))?;
    if manifest.format != FORMAT {
        return Err(not_a_backup(format!(
            "{MANIFEST} has format {}, this version reads format {FORMAT}",
            manifest.format
        )));
    }
    if manifest.files.is_empty() {
        return Err(not_a_backup(format!("{MANIFEST} lists no file")));
    }
    for (i, file) in manifest.files.iter().enumerate() {
        // Only the suite's own file names: a manifest never names a path outside the folders.
        if !DATABASES.contains(&file.name.as_str()) {
            return Err(not_a_backup(format!(
                "{MANIFEST} lists {:?}, which is not a database of the suite ({})",
                file.name,
                DATABASES.join(", ")
            )));
        }
        if manifest.files[..i].iter().any(|f| f.name == file.name) {
            return Err(not_a_backup(format!("{MANIFEST} lists {} twice", file.name)));
        }
    }
    Ok(manifest)
}

/// Copies one backed-up database next to its live file, checks the copy, keeps the live file
/// (and its `-wal` and `-shm`) aside and renames the copy over it.
fn put_back(source: &Path, data_dir: &Path, expected: &BackedUpFile, aside: &mut SetAside) -> Result<(), Error> {
    let live = data_dir.join(&expected.name);
    let restoring = data_dir.join(format!(".{}.restoring", expected.name));
    remove_if_present(&restoring)?;
    fs::copy(source, &restoring).map_err(Error::io(format!(
        "copy {} to {}",
        source.display(),
        restoring.display()
    )))?;
    sync_file(&restoring)?;
    check_digest(&restoring, expected)?;
    // The old write-ahead log must not meet the new file: it goes first.
    aside.take(&wal_of(&live, "-wal"))?;
    aside.take(&wal_of(&live, "-shm"))?;
    aside.keep_copy(&live)?;
    rename(&restoring, &live)
}

/// Checks `path` against its manifest entry's size and digest.
fn check_digest(path: &Path, expected: &BackedUpFile) -> Result<(), Error> {
    let damaged = |reason: String| Error::Damaged {
        file: path.to_path_buf(),
        reason,
    };
    let (bytes, sha256) = match digest(path) {
        Ok(measured) => measured,
        Err(Error::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => {
            return Err(damaged("the file is missing".into()));
        }
        Err(e) => return Err(e),
    };
    if bytes != expected.bytes {
        return Err(damaged(format!("{bytes} bytes, the manifest says {}", expected.bytes)));
    }
    if sha256 != expected.sha256 {
        return Err(damaged(format!(
            "SHA-256 {sha256}, the manifest says {}",
            expected.sha256
        )));
    }
    Ok(())
}

/// The size and SHA-256 digest (lowercase hex) of a file.
fn digest(path: &Path) -> Result<(u64, String), Error> {
    let mut file = File::open(path).map_err(Error::io(format!("read {}", path.display())))?;
    let mut hasher = Sha256::new();
    let bytes = io::copy(&mut file, &mut hasher).map_err(Error::io(format!("read {}", path.display())))?;
    Ok((bytes, format!("{:x}", hasher.finalize())))
}

/// The replaced files of one restore, moved into `replaced-<time>/` in the data directory
/// (made on the first file).
struct SetAside {
    data_dir: PathBuf,
    dir: Option<PathBuf>,
    moved: Vec<PathBuf>,
}

impl SetAside {
    fn new(data_dir: &Path) -> SetAside {
        SetAside {
            data_dir: data_dir.to_path_buf(),
            dir: None,
            moved: Vec::new(),
        }
    }

    /// The folder, made when first needed; a second restore in the same second gets `-2`.
    fn dir(&mut self) -> Result<PathBuf, Error> {
        if let Some(dir) = &self.dir {
            return Ok(dir.clone());
        }
        let stamp: String = crm_kit::time::format_rfc3339(crm_kit::time::now_micros())
            .chars()
            .filter(|c| !matches!(c, '-' | ':'))
            .collect();
        for n in 1.. {
            let name = match n {
                1 => format!("replaced-{stamp}"),
                n => format!("replaced-{stamp}-{n}"),
            };
            let dir = self.data_dir.join(name);
            match fs::create_dir(&dir) {
                Ok(()) => {
                    self.dir = Some(dir.clone());
                    return Ok(dir);
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(Error::io(format!("create {}", dir.display()))(e)),
            }
        }
        unreachable!("some name is free")
    }

    /// Moves `path` aside, if it is there.
    fn take(&mut self, path: &Path) -> Result<(), Error> {
        if !path.exists() {
            return Ok(());
        }
        let target = self.target(path)?;
        rename(path, &target)?;
        self.moved.push(target);
        Ok(())
    }

    /// Keeps `path` aside while leaving it in place for the rename over it: a hard link, or a
    /// copy where the file system has none.
    fn keep_copy(&mut self, path: &Path) -> Result<(), Error> {
        if !path.exists() {
            return Ok(());
        }
        let target = self.target(path)?;
        if fs::hard_link(path, &target).is_err() {
            fs::copy(path, &target).map_err(Error::io(format!("copy {} to {}", path.display(), target.display())))?;
            sync_file(&target)?;
        }
        self.moved.push(target);
        Ok(())
    }

    fn target(&mut self, path: &Path) -> Result<PathBuf, Error> {
        let name = path.file_name().expect("a database path ends in its file name");
        Ok(self.dir()?.join(name))
    }
}

/// Whether `a` and `b` name the same folder.
fn same_dir(a: &Path, b: &Path) -> bool {
    matches!((fs::canonicalize(a), fs::canonicalize(b)), (Ok(a), Ok(b)) if a == b)
}

/// `customers.db` → `customers.db-wal` (or `-shm`).
fn wal_of(db: &Path, suffix: &str) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn rename(from: &Path, to: &Path) -> Result<(), Error> {
    fs::rename(from, to).map_err(Error::io(format!("rename {} to {}", from.display(), to.display())))
}

fn remove_if_present(path: &Path) -> Result<(), Error> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(Error::io(format!("remove {}", path.display()))(e)),
        _ => Ok(()),
    }
}

fn sync_file(path: &Path) -> Result<(), Error> {
    File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(Error::io(format!("flush {} to disk", path.display())))
}

/// Makes the renames in `dir` durable (where the platform can open a folder).
fn sync_dir(dir: &Path) -> Result<(), Error> {
    #[cfg(unix)]
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(Error::io(format!("flush {} to disk", dir.display())))?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Runs file work off the async threads.
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> Result<T, Error> + Send + 'static) -> Result<T, Error> {
    tokio::task::spawn_blocking(work).await.map_err(|e| Error::Io {
        action: "file work".into(),
        source: io::Error::other(e),
    })?
}

fn millis(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
}

impl fmt::Display for Backup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = &self.manifest;
        writeln!(
            f,
            "backed up {} into {} in {} ms (started {}):",
            m.data_dir,
            self.dir.display(),
            m.took_ms,
            m.started_at
        )?;
        for file in &m.files {
            writeln!(
                f,
                "  {:<13} {:>12} bytes  sha256 {}  integrity_check {}  {} ms",
                file.name, file.bytes, file.sha256, file.integrity_check, file.took_ms
            )?;
        }
        write!(f, "manifest: {}", self.dir.join(MANIFEST).display())
    }
}

impl fmt::Display for Restore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "restored the backup of {} (started {}) from {} into {}:",
            self.manifest.data_dir,
            self.manifest.started_at,
            self.from.display(),
            self.data_dir.display()
        )?;
        for file in &self.manifest.files {
            writeln!(f, "  {:<13} {:>12} bytes  sha256 verified", file.name, file.bytes)?;
        }
        match &self.replaced_dir {
            Some(dir) => {
                write!(f, "the files it replaced are kept in {}:", dir.display())?;
                for path in &self.set_aside {
                    let name = path.file_name().unwrap_or_default().to_string_lossy();
                    write!(f, "\n  {name}")?;
                }
                Ok(())
            }
            None => write!(f, "there was nothing to replace"),
        }
    }
}
