//! CPU-heavy work (password hashing, document rendering) off the async workers, on at most
//! one blocking thread per core. `spawn_blocking` alone keeps the workers free but lets a
//! flood of callers start hundreds of threads (each Argon2id verification holds 19 MiB);
//! waiting for a permit first bounds both the threads and the memory, and the callers queue
//! instead of the whole process slowing down.

use std::sync::{Arc, OnceLock};

use tokio::sync::Semaphore;

use crate::{Error, Result};

/// How many CPU-heavy jobs run at once: the cores the process may use.
pub fn capacity() -> usize {
    std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get)
}

fn permits() -> &'static Arc<Semaphore> {
    static PERMITS: OnceLock<Arc<Semaphore>> = OnceLock::new();
    PERMITS.get_or_init(|| Arc::new(Semaphore::new(capacity())))
}

/// Runs `job` on a blocking thread once one of [`capacity`] permits is free.
pub async fn run<F, R>(job: F) -> Result<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let permit = permits()
        .clone()
        .acquire_owned()
        .await
        .map_err(|e| Error::Internal(format!("cpu pool: {e}")))?;
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        job()
    })
    .await
    .map_err(|e| Error::Internal(format!("cpu job: {e}")))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn at_most_capacity_jobs_run_at_once() {
        let active = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let jobs: Vec<_> = (0..capacity() * 4)
            .map(|_| {
                let (active, most) = (active.clone(), most.clone());
                tokio::spawn(run(move || {
                    let now = active.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(std::time::Duration::from_millis(20));
                    active.fetch_sub(1, Ordering::SeqCst);
                }))
            })
            .collect();
        for job in jobs {
            job.await.unwrap().unwrap();
        }
        let most = most.load(Ordering::SeqCst);
        assert!(
            most >= 1 && most <= capacity(),
            "{most} jobs at once, capacity {}",
            capacity()
        );
    }
}
