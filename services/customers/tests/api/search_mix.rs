//! Ranked search over 20,000 customers: for every query of a mix of rare and common pieces, the
//! pages give exactly the customers a bare scan finds, in scope, in rank order (the exact name,
//! then names starting with the query by name key, then the rest newest first), whichever plan
//! the service chose.

use std::collections::HashSet;

use crm_customers::domain::names;
use crm_proto::customers as pb;

use crate::helpers::{Client, list_all, spawn};
use crate::import_export::import;

/// A small deterministic generator (the data set is the same in every run).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

const CITIES: &[&str] = &["深圳市", "广州市", "北京", "上海", "杭州", "Madrid", "Valencia"];
const WORDS: &[&str] = &[
    "腾飞", "华强", "创新", "远航", "金达", "宏图", "Global", "Nova", "Iberia", "Solar", "Vértice",
];
const TRADES: &[&str] = &["科技", "电子", "贸易", "机械", "Trading", "Systems", "Logistics"];
const SUFFIXES: &[&str] = &["有限公司", "股份有限公司", "集团", " S.L.", " Co., Ltd.", ""];
const PEOPLE: &[&str] = &["张伟", "王芳", "李娜", "刘洋", "María García", "José López"];

/// Rows of an import file: `count` companies numbered from `first`, with a contact and a mobile.
fn rows(rng: &mut Rng, first: usize, count: usize, word: Option<&str>) -> Vec<String> {
    (first..first + count)
        .map(|i| {
            let name = format!(
                "{}{}{}{}{i}号{}",
                rng.pick(CITIES),
                word.unwrap_or_else(|| rng.pick(WORDS)),
                rng.pick(WORDS),
                rng.pick(TRADES),
                rng.pick(SUFFIXES)
            );
            format!(
                "\"{name}\",company,{},{},13{:09}",
                ["A", "B", ""][i % 3],
                rng.pick(PEOPLE),
                rng.next() % 1_000_000_000
            )
        })
        .collect()
}

async fn import_rows(client: &mut Client, mut rows: Vec<String>, sorted: bool) {
    if sorted {
        rows.sort();
    }
    let csv = format!(
        "name,kind,level_code,contact.name,contact.mobile\n{}\n",
        rows.join("\n")
    );
    let n = rows.len() as i64;
    let result = import(
        client,
        pb::ImportOptions {
            mode: pb::ImportMode::Skip as i32,
            ..Default::default()
        },
        &csv,
        64 * 1024,
    )
    .await
    .expect("import");
    assert_eq!(result.created, n, "{:?}", &result.errors[..result.errors.len().min(3)]);
}

/// What a bare scan finds for `query`, in rank order: (id, name key) of every live customer
/// whose search text holds the normalised query, owned by `owner` when given.
async fn bare_scan(pool: &sqlx::AnyPool, query: &str, owner: Option<&str>, filter: &str) -> Vec<String> {
    let normalized = names::normalize_text(query);
    let mut sql = "SELECT id, name_key FROM customers WHERE deleted_at IS NULL AND search_text LIKE $1".to_string();
    if owner.is_some() {
        sql.push_str(" AND owner_id = $2");
    }
    sql.push_str(filter);
    let mut q = sqlx::query_as::<_, (String, String)>(&sql).bind(format!("%{normalized}%"));
    if let Some(o) = owner {
        q = q.bind(o.to_string());
    }
    let mut found = q.fetch_all(pool).await.expect("bare scan");
    let key = names::name_key(query);
    let class = |k: &str| {
        if k == key {
            0
        } else if k.starts_with(&key) {
            1
        } else {
            2
        }
    };
    found.sort_by(|a, b| {
        let (ca, cb) = (class(&a.1), class(&b.1));
        ca.cmp(&cb).then_with(|| {
            if ca == 1 {
                (&a.1, &a.0).cmp(&(&b.1, &b.0))
            } else {
                b.0.cmp(&a.0)
            }
        })
    });
    found.into_iter().map(|(id, _)| id).collect()
}

#[tokio::test]
async fn every_query_of_the_mix_finds_what_a_bare_scan_finds_in_scope_and_rank_order() {
    let app = spawn().await;
    let mut alice = app.sales("alice").await;
    let mut bob = app.sales("bob").await;
    let mut boss = app.manager().await;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);

    // The oldest 3,000 share a word no later customer has, imported sorted by name: a common
    // piece clustered at the far end of the newest-first walk.
    import_rows(&mut bob, rows(&mut rng, 0, 3_000, Some("Kestrel")), true).await;
    import_rows(&mut alice, rows(&mut rng, 3_000, 8_500, None), false).await;
    import_rows(&mut bob, rows(&mut rng, 11_500, 8_500, None), false).await;

    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&app.database_url).await.expect("connect");
    // Deleted customers stay out of every result.
    let deleted: Vec<(String,)> =
        sqlx::query_as("SELECT id FROM customers WHERE owner_id = 'alice' AND name LIKE '%华强%' LIMIT 25")
            .fetch_all(&pool)
            .await
            .unwrap();
    for (id,) in &deleted {
        alice
            .delete_customer(pb::DeleteCustomerRequest {
                id: id.clone(),
                ..Default::default()
            })
            .await
            .expect("delete");
    }
    // One exact name (without its legal form) for the first class.
    let (exact,): (String,) = sqlx::query_as("SELECT name FROM customers WHERE owner_id = 'alice' ORDER BY id LIMIT 1")
        .fetch_one(&pool)
        .await
        .unwrap();
    let exact_key = names::name_key(&exact);

    let queries = [
        // rare: a serial, a serial with its mark, a name-and-serial piece, a contact and phone
        "12345号",
        "7777",
        "腾飞华强科技1",
        &exact,
        &exact_key,
        // common words, Latin and CJK
        "科技",
        "trading",
        "Global",
        "Logistics",
        // one and two CJK characters
        "腾",
        "市",
        "圳市",
        "华强",
        // phone fragments
        "138",
        "13",
        "0000",
        // Latin prefixes, typed loosely (case, full width, accents)
        "Madr",
        "ＶＡＬＥＮ",
        "vertice",
        // a contact name
        "王芳",
        // the clustered piece, and its rare sibling
        "Kestrel",
        "kestrel深圳",
        // nothing matches
        "不存在的公司",
    ];
    let mut checked = 0usize;
    for query in queries {
        for (caller, owner) in [(&mut boss, None), (&mut alice, Some("alice"))] {
            let want = bare_scan(&pool, query, owner, "").await;
            let got: Vec<String> = list_all(caller, "", query, "", 100)
                .await
                .into_iter()
                .map(|c| c.id)
                .collect();
            let unique: HashSet<&String> = got.iter().collect();
            assert_eq!(
                unique.len(),
                got.len(),
                "{query:?} as {owner:?}: a customer on two pages"
            );
            assert_eq!(got.len(), want.len(), "{query:?} as {owner:?}: count");
            assert_eq!(got, want, "{query:?} as {owner:?}: set or order");
            checked += got.len();
        }
    }
    // Filters apply inside the ranked plans too.
    for query in ["科技", "Kestrel", "7777"] {
        let want = bare_scan(&pool, query, None, " AND level_code = 'A'").await;
        let got: Vec<String> = list_all(&mut boss, "level_code = \"A\"", query, "", 100)
            .await
            .into_iter()
            .map(|c| c.id)
            .collect();
        assert_eq!(got, want, "{query:?} filtered");
    }
    // The mix is not trivial: common pieces found thousands, the rare ones a few.
    assert!(checked > 20_000, "{checked} results checked");
    let kestrel = bare_scan(&pool, "Kestrel", None, "").await;
    assert_eq!(kestrel.len(), 3_000);
    assert!(!bare_scan(&pool, &exact, Some("alice"), "").await.is_empty());
    pool.close().await;
}
