//! Names for duplicate prevention and fuzzy search.
//!
//! Two spellings of one company must meet: `深圳市腾飞科技有限公司` and `深圳市腾飞科技`,
//! `ＡＣＭＥ Co., Ltd.` and `acme ltd`. So a name is half-width folded, lower-cased, stripped
//! of its legal-form suffixes and of every space and punctuation mark before it is compared.
//! Search uses the same folding, then character bigrams: they work for Chinese (no spaces
//! between words) and Latin alike, and a substring of a name always shares all its bigrams.

/// Similarity at or above which CheckDuplicates reports a close match. Half of the bigrams in
/// common catches a missing city marker (深圳腾飞科技 vs 深圳市腾飞科技 scores 0.73) while
/// unrelated names sharing one trade word (科技) stay well below.
pub const CLOSE_MATCH_THRESHOLD: f64 = 0.5;

/// Chinese legal-form endings, longest first so the longest one is removed.
const CHINESE_SUFFIXES: &[&str] = &[
    "集团股份有限公司",
    "集团有限责任公司",
    "集团有限公司",
    "股份有限公司",
    "有限责任公司",
    "责任有限公司",
    "有限公司",
    "责任公司",
    "集团公司",
    "集团",
    "公司",
];

/// Latin legal-form words (compared after folding, without dots).
const LATIN_SUFFIXES: &[&str] = &[
    "co",
    "company",
    "corp",
    "corporation",
    "inc",
    "incorporated",
    "llc",
    "llp",
    "ltd",
    "limited",
    "plc",
    "gmbh",
    "ag",
    "sa",
    "sl",
    "slu",
    "srl",
    "sas",
    "sarl",
    "spa",
    "bv",
    "nv",
    "oy",
    "ab",
    "as",
    "kk",
    "pte",
    "pty",
    "bhd",
    "sdn",
    "group",
    "holding",
    "holdings",
];

/// Full-width ASCII variants and the ideographic space become their half-width forms.
fn half_width(c: char) -> char {
    match c {
        '\u{3000}' => ' ',
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        _ => c,
    }
}

/// Half-width, lower case, and only letters and digits (CJK included): spaces, punctuation
/// and symbols are dropped.
pub fn normalize_text(s: &str) -> String {
    s.chars()
        .map(half_width)
        .flat_map(char::to_lowercase)
        .filter(|c| c.is_alphanumeric())
        .collect()
}

/// Splits folded text into words at anything that is not a letter, digit or dot, and drops
/// dots inside words ("s.a." → "sa").
fn latin_words(s: &str) -> Vec<String> {
    s.split(|c: char| !(c.is_alphanumeric() || c == '.'))
        .map(|w| w.replace('.', ""))
        .filter(|w| !w.is_empty())
        .collect()
}

/// The duplicate key of a name: folded, legal-form suffixes removed (repeatedly, while
/// something remains), then only letters and digits.
pub fn name_key(name: &str) -> String {
    let folded: String = name.chars().map(half_width).flat_map(char::to_lowercase).collect();
    // Brackets around a suffix word (（集团）, (Holdings)) count as part of the suffix.
    let mut words = latin_words(&folded);
    loop {
        let mut changed = false;
        if words.len() > 1 && words.last().is_some_and(|w| LATIN_SUFFIXES.contains(&w.as_str())) {
            words.pop();
            changed = true;
        } else if let Some(last) = words.last().cloned() {
            for suffix in CHINESE_SUFFIXES {
                if let Some(stripped) = last.strip_suffix(suffix) {
                    if !stripped.is_empty() {
                        if let Some(l) = words.last_mut() {
                            *l = stripped.to_string();
                        }
                        changed = true;
                    } else if words.len() > 1 {
                        words.pop();
                        changed = true;
                    }
                    break;
                }
            }
        }
        if !changed {
            break;
        }
    }
    normalize_text(&words.join(" "))
}

/// Distinct character bigrams in first-seen order; a one-character text is its own gram.
pub fn bigrams(normalized: &str) -> Vec<String> {
    let chars: Vec<char> = normalized.chars().collect();
    let mut out: Vec<String> = Vec::new();
    if chars.len() == 1 {
        out.push(chars[0].to_string());
        return out;
    }
    for pair in chars.windows(2) {
        let g: String = pair.iter().collect();
        if !out.contains(&g) {
            out.push(g);
        }
    }
    out
}

/// Stable 64-bit FNV-1a hash of a gram (it is stored, so it never changes).
pub fn gram_hash(gram: &str) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in gram.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    i64::from_ne_bytes(h.to_ne_bytes())
}

/// The hashed grams of a customer's searchable texts, distinct and sorted.
pub fn index_grams(texts: &[&str]) -> Vec<i64> {
    let mut out: Vec<i64> = texts
        .iter()
        .flat_map(|t| bigrams(&normalize_text(t)))
        .map(|g| gram_hash(&g))
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// A search query: its folded text and hashed bigrams (none for a one-character query, which
/// falls back to a scan).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    pub normalized: String,
    pub grams: Vec<i64>,
}

/// Parses a search query; None when nothing searchable remains.
pub fn parse_query(q: &str) -> Option<SearchQuery> {
    let normalized = normalize_text(q);
    if normalized.is_empty() {
        return None;
    }
    let grams = if normalized.chars().count() < 2 {
        Vec::new()
    } else {
        let mut g: Vec<i64> = bigrams(&normalized).iter().map(|g| gram_hash(g)).collect();
        g.sort_unstable();
        g.dedup();
        g
    };
    Some(SearchQuery { normalized, grams })
}

/// Sørensen–Dice similarity of two keys over their bigram multisets (0..=1).
pub fn similarity(a: &str, b: &str) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    if a == b {
        return 1.0;
    }
    let grams = |s: &str| -> Vec<String> {
        let chars: Vec<char> = s.chars().collect();
        if chars.len() == 1 {
            return vec![s.to_string()];
        }
        chars.windows(2).map(|w| w.iter().collect()).collect()
    };
    let ga = grams(a);
    let mut gb = grams(b);
    let total = ga.len() + gb.len();
    let mut common = 0usize;
    for g in &ga {
        if let Some(i) = gb.iter().position(|x| x == g) {
            gb.swap_remove(i);
            common += 1;
        }
    }
    (2 * common) as f64 / total as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_suffixes_are_dropped() {
        assert_eq!(name_key("深圳市腾飞科技有限公司"), "深圳市腾飞科技");
        assert_eq!(name_key("深圳市腾飞科技"), "深圳市腾飞科技");
        assert_eq!(name_key("  深圳市 腾飞 科技（集团）股份有限公司 "), "深圳市腾飞科技");
        assert_eq!(name_key("华为技术有限责任公司"), "华为技术");
        assert_eq!(name_key("阿里巴巴集团"), "阿里巴巴");
        // A branch is a different customer.
        assert_eq!(name_key("腾飞科技深圳分公司"), "腾飞科技深圳分");
        assert_ne!(name_key("腾飞科技深圳分公司"), name_key("腾飞科技"));
    }

    #[test]
    fn latin_suffixes_width_and_case_are_folded() {
        assert_eq!(name_key("ＡＣＭＥ Co., Ltd."), "acme");
        assert_eq!(name_key("acme ltd"), "acme");
        assert_eq!(name_key("Acme GmbH"), "acme");
        assert_eq!(name_key("ACME, Inc."), "acme");
        assert_eq!(name_key("Banco Santander, S.A."), "bancosantander");
        assert_eq!(name_key("Talleres García S.L."), "talleresgarcía");
        assert_eq!(name_key("Global Widgets Holdings Limited"), "globalwidgets");
        // Nothing but a suffix: the name stays.
        assert_eq!(name_key("Limited"), "limited");
        assert_eq!(name_key("公司"), "公司");
        assert_eq!(name_key("  !!! "), "");
    }

    #[test]
    fn normalize_keeps_letters_and_digits_only() {
        assert_eq!(normalize_text("Ｈｅｌｌｏ，　世界！ 123-456"), "hello世界123456");
        assert_eq!(normalize_text("0755-8888 1234"), "075588881234");
    }

    #[test]
    fn bigrams_and_hashes() {
        assert_eq!(bigrams("腾飞科技"), ["腾飞", "飞科", "科技"]);
        assert_eq!(bigrams("aaa"), ["aa"]);
        assert_eq!(bigrams("a"), ["a"]);
        assert!(bigrams("").is_empty());
        assert_eq!(gram_hash("ab"), gram_hash("ab"));
        assert_ne!(gram_hash("ab"), gram_hash("ba"));
        // FNV-1a of "a" is a published test vector.
        assert_eq!(gram_hash("a") as u64, 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn every_substring_shares_its_grams_with_the_text() {
        let index = index_grams(&["深圳市腾飞科技有限公司", "王小明", "13800138000"]);
        for q in ["腾飞", "飞科技", "小明", "0013800", "深圳市腾飞科技有限公司"] {
            let parsed = parse_query(q).unwrap();
            assert!(parsed.grams.iter().all(|g| index.binary_search(g).is_ok()), "{q}");
        }
        assert_eq!(parse_query("技").unwrap().grams, Vec::<i64>::new());
        assert!(parse_query(" ,. ").is_none());
    }

    #[test]
    fn similarity_finds_close_names() {
        assert!(similarity("深圳腾飞科技", "深圳市腾飞科技") >= 0.6);
        assert!(similarity("深圳腾飞科技", "北京华为技术") < 0.3);
        assert_eq!(similarity("acme", "acme"), 1.0);
        assert_eq!(similarity("", "acme"), 0.0);
        assert!(similarity("acmetrading", "acmetradingco") > CLOSE_MATCH_THRESHOLD);
    }
}
