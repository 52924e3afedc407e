//! Names (`crm_customers::domain::names`): folding, duplicate keys, search bigrams and
//! similarity of any two texts keep their documented properties.

#![no_main]

use crm_customers::domain::names::{
    bigrams, candidate_texts, core_of, gram_hash, index_grams, name_key, normalize_text, parse_query, similarity,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (a, b) = text.split_once('\n').unwrap_or((text, ""));

    let normalized = normalize_text(a);
    assert!(normalized.chars().all(char::is_alphanumeric), "{normalized:?}");
    let key = name_key(a);
    assert!(key.chars().all(char::is_alphanumeric), "{key:?}");

    // Bigrams: distinct, two characters each (one for a one-character text), and a substring
    // of a text shares all its bigrams.
    let grams = bigrams(&normalized);
    let chars: Vec<char> = normalized.chars().collect();
    for (i, g) in grams.iter().enumerate() {
        assert_eq!(g.chars().count(), chars.len().min(2), "{g:?}");
        assert!(!grams[..i].contains(g), "{g:?} twice");
        assert!(normalized.contains(g.as_str()));
    }
    if chars.len() >= 4 {
        let from = usize::from(data[0]) % (chars.len() - 2);
        let part: String = chars[from..from + 2 + (chars.len() - from - 2) / 2].iter().collect();
        for g in bigrams(&part) {
            assert!(grams.contains(&g), "{part:?} of {normalized:?}: {g:?}");
        }
    }

    // Queries and the index agree on grams.
    match parse_query(a) {
        None => assert!(normalized.is_empty()),
        Some(q) => {
            assert_eq!(q.normalized, normalized);
            assert!(q.grams.windows(2).all(|w| w[0] < w[1]), "sorted and distinct");
            let index = index_grams(&[a]);
            for g in &q.grams {
                assert!(index.binary_search(g).is_ok(), "the index has every gram of the query");
            }
            if chars.len() >= 2 {
                let mut hashed: Vec<i64> = grams.iter().map(|g| gram_hash(g)).collect();
                hashed.sort_unstable();
                hashed.dedup();
                assert_eq!(q.grams, hashed);
            }
        }
    }

    // Similarity: a score in 0..=1, 1 exactly for the same duplicate key.
    let s = similarity(a, b);
    assert!((0.0..=1.0).contains(&s), "{s}");
    let same_key = !key.is_empty() && key == name_key(b);
    assert_eq!(s == 1.0, same_key, "{a:?} / {b:?}: {s}");
    if !key.is_empty() {
        assert_eq!(similarity(a, a), 1.0);
    }
    let _ = core_of(b);
    assert!(!candidate_texts(a).is_empty());
});
