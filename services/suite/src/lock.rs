//! The data directory's lock: a running suite (and a restore) holds an exclusive advisory lock
//! on `.lock` in the data directory, so a second suite cannot start on the same files and a
//! restore cannot replace them under a running one. The operating system drops the lock when
//! its holder exits, crashed or not, so a stale lock file never blocks anything.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

/// The lock file's name in the data directory.
pub const LOCK_FILE: &str = ".lock";

/// Why the data directory could not be locked.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another process holds the lock.
    #[error("{} is in use by {holder} (it holds {})", .data_dir.display(), .lock_file.display())]
    Held {
        data_dir: PathBuf,
        lock_file: PathBuf,
        /// Who holds it, as far as the lock file says (`process 1234`).
        holder: String,
    },
    /// The data directory or its lock file cannot be opened.
    #[error("cannot lock {}: {source}", .lock_file.display())]
    Io {
        lock_file: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The held lock of one data directory; dropping it releases the lock.
#[derive(Debug)]
pub struct DataDirLock {
    _file: File,
    path: PathBuf,
}

impl DataDirLock {
    /// Takes the data directory's lock without waiting, creating the directory when missing.
    pub fn acquire(data_dir: &Path) -> Result<DataDirLock, LockError> {
        let lock_file = data_dir.join(LOCK_FILE);
        let io = |source| LockError::Io {
            lock_file: lock_file.clone(),
            source,
        };
        std::fs::create_dir_all(data_dir).map_err(io)?;
        // Not truncated on open: while another process holds the lock, its process id stays.
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock_file)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = match holder.trim() {
                    "" => "another process".to_string(),
                    pid => format!("process {pid}"),
                };
                return Err(LockError::Held {
                    data_dir: data_dir.to_path_buf(),
                    lock_file,
                    holder,
                });
            }
            Err(TryLockError::Error(e)) => return Err(io(e)),
        }
        // Who holds it, for the message another process shows when it is refused.
        file.set_len(0).map_err(io)?;
        file.rewind().map_err(io)?;
        writeln!(file, "{}", std::process::id()).map_err(io)?;
        Ok(DataDirLock {
            _file: file,
            path: lock_file,
        })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}
