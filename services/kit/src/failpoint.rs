//! Crash drills (points: `events.apply.after_event`, after each event's effect inside a page's
//! transaction; `events.apply.before_commit`, right before that transaction commits): `CRM_FAILPOINT=<name>:<n>` makes the process abort the `n`th time it reaches
//! the point `name`, as a power cut or `kill -9` would stop it there. Tests run the real
//! service binary with it to prove a crash at that point loses and doubles nothing. Unset (the
//! normal case) a point costs one relaxed atomic load.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// The environment variable naming the armed point.
pub const ENV: &str = "CRM_FAILPOINT";

struct Armed {
    name: String,
    at: u64,
    hits: AtomicU64,
}

fn armed() -> Option<&'static Armed> {
    static ARMED: OnceLock<Option<Armed>> = OnceLock::new();
    ARMED
        .get_or_init(|| {
            let spec = std::env::var(ENV).ok()?;
            let (name, at) = spec.rsplit_once(':').unwrap_or((spec.as_str(), "1"));
            Some(Armed {
                name: name.trim().to_string(),
                at: at.trim().parse().ok().filter(|n| *n > 0)?,
                hits: AtomicU64::new(0),
            })
        })
        .as_ref()
}

/// Marks point `name`; aborts the process when it is the armed point's `n`th hit.
pub fn hit(name: &str) {
    if let Some(armed) = armed()
        && armed.name == name
        && armed.hits.fetch_add(1, Ordering::SeqCst) + 1 == armed.at
    {
        eprintln!("failpoint {name} reached: aborting");
        std::process::abort();
    }
}
