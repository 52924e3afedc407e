//! Rate limits: a token bucket per key (an employee, an IP address). Each replica counts on its
//! own, so the cluster-wide limit is the per-replica limit times the replicas; that keeps the
//! gateway stateless, and a flood from one source still hits one bucket per replica.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How many requests a key may make: `per_second` sustained, `burst` at once. A rate of zero
/// sets no limit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    pub per_second: f64,
    pub burst: f64,
}

impl Rate {
    /// `n` requests per second, with bursts of twice that.
    pub fn per_second(n: f64) -> Rate {
        Rate {
            per_second: n,
            burst: (n * 2.0).max(1.0),
        }
    }

    /// `n` requests per minute, with bursts of `burst`.
    pub fn per_minute(n: f64, burst: f64) -> Rate {
        Rate {
            per_second: n / 60.0,
            burst: burst.max(1.0),
        }
    }

    fn unlimited(&self) -> bool {
        self.per_second <= 0.0
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Buckets for one kind of key.
#[derive(Debug)]
pub struct Limiter {
    rate: Rate,
    buckets: Mutex<HashMap<String, Bucket>>,
    /// Above this many buckets, full ones (keys that have rested) are dropped.
    max_keys: usize,
}

impl Limiter {
    /// A limiter allowing `rate` per key.
    pub fn new(rate: Rate) -> Limiter {
        Limiter {
            rate,
            buckets: Mutex::new(HashMap::new()),
            max_keys: 100_000,
        }
    }

    /// Takes one request from `key`'s bucket; `Err(wait)` when it is empty.
    pub fn check(&self, key: &str) -> Result<(), Duration> {
        self.check_at(key, Instant::now())
    }

    fn check_at(&self, key: &str, now: Instant) -> Result<(), Duration> {
        if self.rate.unlimited() {
            return Ok(());
        }
        let mut buckets = self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if buckets.len() >= self.max_keys && !buckets.contains_key(key) {
            let rate = self.rate;
            buckets.retain(|_, b| refill(b, rate, now) < rate.burst);
        }
        let bucket = buckets.entry(key.to_string()).or_insert(Bucket {
            tokens: self.rate.burst,
            at: now,
        });
        bucket.tokens = refill(bucket, self.rate, now);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let missing = 1.0 - bucket.tokens;
            Err(Duration::from_secs_f64(missing / self.rate.per_second))
        }
    }
}

fn refill(bucket: &Bucket, rate: Rate, now: Instant) -> f64 {
    let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
    (bucket.tokens + elapsed * rate.per_second).min(rate.burst)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_refills_at_its_rate() {
        let limiter = Limiter::new(Rate {
            per_second: 2.0,
            burst: 3.0,
        });
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(limiter.check_at("ip-1", t0).is_ok());
        }
        let wait = limiter.check_at("ip-1", t0).unwrap_err();
        assert!((wait.as_secs_f64() - 0.5).abs() < 1e-6, "{wait:?}");
        // Another key has its own bucket.
        assert!(limiter.check_at("ip-2", t0).is_ok());
        // Half a second later one request is allowed again, and only one.
        let t1 = t0 + Duration::from_millis(500);
        assert!(limiter.check_at("ip-1", t1).is_ok());
        assert!(limiter.check_at("ip-1", t1).is_err());
    }

    #[test]
    fn zero_rate_is_unlimited_and_rested_keys_are_forgotten() {
        let open = Limiter::new(Rate {
            per_second: 0.0,
            burst: 0.0,
        });
        for _ in 0..1000 {
            assert!(open.check("k").is_ok());
        }
        let mut limiter = Limiter::new(Rate::per_second(1.0));
        limiter.max_keys = 2;
        let t0 = Instant::now();
        limiter.check_at("a", t0).unwrap();
        limiter.check_at("b", t0).unwrap();
        // Ten seconds on, both have refilled; a third key drops them instead of growing.
        limiter.check_at("c", t0 + Duration::from_secs(10)).unwrap();
        assert_eq!(limiter.buckets.lock().unwrap().len(), 1);
    }
}
