//! The search benchmark: a fixed, seeded mix of six query classes over the imported customers,
//! p50/p95/p99 per class and overall, each beside the bare scan that answers the same query
//! without an index (`COUNT(*)` of `search_text LIKE '%x%'`, which also tells how common the
//! piece is).

use std::time::{Duration, Instant};

use crm_customers::domain::names;
use crm_proto::customers as pb;

use crate::{CITIES, Client, Db, Rng, TRADES, WORDS, ms, percentile};

/// The classes of the mix, in print order.
const CLASSES: [&str; 6] = [
    "rare word",
    "common word",
    "one CJK character",
    "two CJK characters",
    "phone fragment",
    "Latin prefix",
];

/// One query of class `class`, drawn from the data.
fn query(rng: &mut Rng, class: usize, data: &[(String, &'static str, &'static str, String)]) -> String {
    // A customer with at least three CJK characters (a Latin name holds only its serial's 号).
    let (name, mobile, cjk) = loop {
        let (name, _, _, mobile) = &data[(rng.next() % data.len() as u64) as usize];
        let cjk: Vec<char> = name.chars().filter(|c| ('\u{4E00}'..='\u{9FFF}').contains(c)).collect();
        if cjk.len() >= 3 {
            break (name, mobile, cjk);
        }
    };
    match class {
        // The serial that makes a name unique, with its mark: one or a few customers.
        0 => {
            let digits: String = name.chars().filter(char::is_ascii_digit).collect();
            format!("{digits}号")
        }
        1 => {
            let pool: Vec<&str> = WORDS.iter().chain(TRADES).copied().collect();
            rng.pick(&pool).to_string()
        }
        2 => cjk[(rng.next() as usize) % cjk.len()].to_string(),
        3 => {
            let at = (rng.next() as usize) % (cjk.len() - 1);
            cjk[at..at + 2].iter().collect()
        }
        // 3 to 5 digits of a mobile.
        4 => {
            let len = 3 + (rng.next() % 3) as usize;
            let at = (rng.next() as usize) % (mobile.len() - len);
            mobile[at..at + len].to_string()
        }
        _ => {
            let latin: Vec<&str> = CITIES.iter().chain(WORDS).copied().filter(|w| w.is_ascii()).collect();
            let word = rng.pick(&latin);
            let len = 3 + (rng.next() % 3) as usize;
            word[..len.min(word.len())].to_string()
        }
    }
}

/// Runs `per_class` queries of every class (interleaved) through ListCustomers and the bare scan.
pub async fn bench_mix(
    client: &mut Client,
    raw: &Db,
    data: &[(String, &'static str, &'static str, String)],
    backend: &str,
    per_class: usize,
) {
    let mut rng = Rng(0x51ed_270b_27f4_a3c1);
    let mut service: Vec<Vec<Duration>> = vec![Vec::new(); CLASSES.len()];
    let mut bare: Vec<Vec<Duration>> = vec![Vec::new(); CLASSES.len()];
    let mut matches = vec![0i64; CLASSES.len()];
    for _ in 0..per_class {
        for class in 0..CLASSES.len() {
            let q = query(&mut rng, class, data);
            let t = Instant::now();
            client
                .list_customers(pb::ListCustomersRequest {
                    query: q.clone(),
                    page_size: 50,
                    ..Default::default()
                })
                .await
                .expect("search");
            service[class].push(t.elapsed());
            let t = Instant::now();
            let n: i64 = sqlx::query_scalar(
                "SELECT CAST(COUNT(*) AS BIGINT) FROM customers WHERE deleted_at IS NULL AND search_text LIKE $1",
            )
            .bind(format!("%{}%", names::normalize_text(&q)))
            .fetch_one(&raw.pool)
            .await
            .expect("bare scan");
            bare[class].push(t.elapsed());
            matches[class] += n;
        }
    }
    let line = |label: &str, s: &mut Vec<Duration>, b: &mut Vec<Duration>, avg: i64| {
        s.sort();
        b.sort();
        println!(
            "search [{backend}] {label:<20} p50 {} p95 {} p99 {} (target p95 < {} ms); bare scan p50 {} p95 {}, ratio p95 {:.1}; {avg} matches on average",
            ms(percentile(s, 0.5)),
            ms(percentile(s, 0.95)),
            ms(percentile(s, 0.99)),
            if backend == "postgres" { 20 } else { 50 },
            ms(percentile(b, 0.5)),
            ms(percentile(b, 0.95)),
            percentile(b, 0.95).as_secs_f64() / percentile(s, 0.95).as_secs_f64().max(1e-9)
        );
    };
    let (mut all_s, mut all_b) = (Vec::new(), Vec::new());
    for class in 0..CLASSES.len() {
        all_s.extend(service[class].iter().copied());
        all_b.extend(bare[class].iter().copied());
        let avg = matches[class] / per_class.max(1) as i64;
        line(CLASSES[class], &mut service[class], &mut bare[class], avg);
    }
    let avg = matches.iter().sum::<i64>() / (per_class * CLASSES.len()).max(1) as i64;
    line("all classes", &mut all_s, &mut all_b, avg);
}
