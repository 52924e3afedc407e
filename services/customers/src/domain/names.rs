//! Names for duplicate prevention and fuzzy search.
//!
//! Two spellings of one company must meet: `深圳市腾飞科技有限公司` and `深圳市腾飞科技`,
//! `ＡＣＭＥ Co., Ltd.` and `acme ltd`, `華為技術有限公司` and `华为技术有限公司`. So a name is
//! folded (NFKC for full-width forms, lower case, traditional characters to simplified with
//! OpenCC's character table from the `fast2s` crate), stripped of its legal-form suffixes and
//! of every space and punctuation mark before it is compared. Search uses the same folding,
//! then character bigrams: they work for Chinese (no spaces between words) and Latin alike, and
//! a substring of a name always shares all its bigrams.
//!
//! Close matches compare what a person reads as the name: its distinctive core, without the
//! region in front (广州 / 广州市), the industry words behind (制药, 医药, 科技, 贸易) and the
//! legal form or 集团 (see [`core_of`]). `广州市白云山制药有限公司` and `广州白云山医药集团`
//! share the core 白云山; `北京字节跳动科技有限公司` and `北京小米科技有限责任公司` share only
//! their city and industry word, so they stay apart.

/// Similarity at or above which CheckDuplicates reports a close match.
pub const CLOSE_MATCH_THRESHOLD: f64 = 0.6;

/// The similarity of two names with the same core but a different region, industry word or
/// legal form.
const SAME_CORE: f64 = 0.9;

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

/// Folds a text for comparison: compatibility forms to their plain ones (NFKC: full-width
/// letters, digits and punctuation, the ideographic space), lower case, and traditional
/// characters to simplified ones.
pub fn fold(s: &str) -> String {
    crm_kit::text::fold(s)
}

/// Folded, and only letters and digits (CJK included): spaces, punctuation and symbols are
/// dropped.
pub fn normalize_text(s: &str) -> String {
    fold(s).chars().filter(|c| c.is_alphanumeric()).collect()
}

/// Splits folded text into words at anything that is not a letter, digit, dot or apostrophe,
/// and drops those inside words ("s.a." → "sa", "applebee's" → "applebees").
fn latin_words(s: &str) -> Vec<String> {
    s.split(|c: char| !(c.is_alphanumeric() || matches!(c, '.' | '\'' | '’')))
        .map(|w| w.replace(['.', '\'', '’'], ""))
        .filter(|w| !w.is_empty())
        .collect()
}

/// The duplicate key of a name: folded, legal-form suffixes removed (repeatedly, while
/// something remains), then only letters and digits.
pub fn name_key(name: &str) -> String {
    normalize_text(&key_words(name).join(" "))
}

/// The words of a name after folding and removing its legal-form suffixes.
fn key_words(name: &str) -> Vec<String> {
    let folded = fold(name);
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
    words
}

/// Distinct character bigrams in first-seen order; a one-character text is its own gram.
/// Linear in the text: a hash set, not a scan of the grams so far, spots repeats.
pub fn bigrams(normalized: &str) -> Vec<String> {
    let chars: Vec<char> = normalized.chars().collect();
    if chars.len() == 1 {
        return vec![chars[0].to_string()];
    }
    let mut seen: std::collections::HashSet<(char, char)> = std::collections::HashSet::with_capacity(chars.len());
    chars
        .windows(2)
        .filter(|pair| seen.insert((pair[0], pair[1])))
        .map(|pair| pair.iter().collect())
        .collect()
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

/// Provinces, regions and cities that open company names (`广州市…`, `深圳…`), in simplified
/// characters; a trailing 省, 市, 区 or 县 goes with them.
const REGIONS: &[&str] = &[
    "中国",
    "北京",
    "天津",
    "上海",
    "重庆",
    "河北",
    "山西",
    "辽宁",
    "吉林",
    "黑龙江",
    "江苏",
    "浙江",
    "安徽",
    "福建",
    "江西",
    "山东",
    "河南",
    "湖北",
    "湖南",
    "广东",
    "海南",
    "四川",
    "贵州",
    "云南",
    "陕西",
    "甘肃",
    "青海",
    "台湾",
    "内蒙古",
    "广西",
    "西藏",
    "宁夏",
    "新疆",
    "香港",
    "澳门",
    "广州",
    "深圳",
    "珠海",
    "汕头",
    "佛山",
    "韶关",
    "湛江",
    "肇庆",
    "江门",
    "茂名",
    "惠州",
    "梅州",
    "汕尾",
    "河源",
    "阳江",
    "清远",
    "东莞",
    "中山",
    "潮州",
    "揭阳",
    "云浮",
    "南京",
    "苏州",
    "无锡",
    "常州",
    "徐州",
    "南通",
    "扬州",
    "镇江",
    "盐城",
    "泰州",
    "淮安",
    "连云港",
    "宿迁",
    "杭州",
    "宁波",
    "温州",
    "嘉兴",
    "湖州",
    "绍兴",
    "金华",
    "衢州",
    "舟山",
    "台州",
    "丽水",
    "义乌",
    "合肥",
    "芜湖",
    "蚌埠",
    "福州",
    "厦门",
    "泉州",
    "漳州",
    "莆田",
    "南昌",
    "赣州",
    "九江",
    "济南",
    "青岛",
    "烟台",
    "潍坊",
    "淄博",
    "威海",
    "临沂",
    "济宁",
    "郑州",
    "洛阳",
    "开封",
    "武汉",
    "宜昌",
    "襄阳",
    "长沙",
    "株洲",
    "湘潭",
    "岳阳",
    "成都",
    "绵阳",
    "德阳",
    "宜宾",
    "贵阳",
    "遵义",
    "昆明",
    "西安",
    "咸阳",
    "宝鸡",
    "兰州",
    "西宁",
    "银川",
    "乌鲁木齐",
    "呼和浩特",
    "包头",
    "南宁",
    "桂林",
    "柳州",
    "海口",
    "三亚",
    "拉萨",
    "石家庄",
    "唐山",
    "保定",
    "廊坊",
    "邯郸",
    "太原",
    "沈阳",
    "大连",
    "鞍山",
    "长春",
    "哈尔滨",
    "大庆",
    "台北",
    "新北",
    "桃园",
    "台中",
    "台南",
    "高雄",
    "新竹",
    "基隆",
    "九龙",
    "新界",
    "浦东",
    "南山",
    "福田",
    "宝安",
    "龙岗",
    "海淀",
    "朝阳",
    "天河",
    "番禺",
    "白云区",
];

/// Markers that follow a region name.
const REGION_MARKERS: &[&str] = &["特别行政区", "自治区", "省", "市", "区", "县"];

/// Words for what a company does, and group or holding words, that follow the core of a name
/// (`白云山` + `制药`, `字节跳动` + `科技`); in simplified characters.
const INDUSTRY_WORDS: &[&str] = &[
    "科技",
    "技术",
    "信息",
    "网络",
    "电子",
    "电器",
    "电气",
    "通信",
    "通讯",
    "软件",
    "数据",
    "智能",
    "数码",
    "制药",
    "医药",
    "药业",
    "生物",
    "医疗",
    "健康",
    "贸易",
    "商贸",
    "进出口",
    "实业",
    "投资",
    "控股",
    "发展",
    "咨询",
    "服务",
    "管理",
    "文化",
    "传媒",
    "广告",
    "教育",
    "建筑",
    "建设",
    "工程",
    "装饰",
    "物流",
    "运输",
    "供应链",
    "食品",
    "饮料",
    "化工",
    "材料",
    "能源",
    "机械",
    "设备",
    "制造",
    "汽车",
    "纺织",
    "服装",
    "家具",
    "房地产",
    "置业",
    "地产",
    "物业",
    "环保",
    "农业",
    "电力",
    "光电",
    "精密",
    "工业",
    "产业",
    "商务",
    "国际",
    "集团",
    "股份",
    "企业",
    "新",
];

/// Latin words for a place, an industry or a group, dropped from the core of a name.
const LATIN_CONTEXT_WORDS: &[&str] = &[
    "china",
    "hongkong",
    "hong",
    "kong",
    "hk",
    "shenzhen",
    "shanghai",
    "beijing",
    "guangzhou",
    "taiwan",
    "germany",
    "deutschland",
    "spain",
    "españa",
    "espana",
    "uk",
    "usa",
    "us",
    "america",
    "europe",
    "asia",
    "international",
    "global",
    "trading",
    "trade",
    "technology",
    "technologies",
    "tech",
    "solutions",
    "services",
    "service",
    "systems",
    "software",
    "consulting",
    "logistics",
    "industries",
    "industrial",
    "manufacturing",
    "pharmaceutical",
    "pharmaceuticals",
    "pharma",
    "electronics",
    "foods",
    "enterprises",
    "imports",
    "exports",
    "the",
    "and",
];

fn is_han(c: char) -> bool {
    matches!(c, '\u{3400}'..='\u{4DBF}' | '\u{4E00}'..='\u{9FFF}' | '\u{F900}'..='\u{FAFF}' | '\u{20000}'..='\u{3134F}')
}

/// The distinctive core of a company name, as a person reads it: the Chinese characters without
/// a leading region (and its 省 / 市 / 区 marker, also a region in brackets at the end) and without
/// the industry and group words behind, and the Latin words without places, industries and
/// legal forms. What would be left empty keeps its last part, so a name never loses its core
/// to these lists.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Core {
    /// The Chinese part.
    pub han: String,
    /// The Latin (and digit) words.
    pub words: Vec<String>,
}

impl Core {
    fn is_empty(&self) -> bool {
        self.han.is_empty() && self.words.is_empty()
    }
}

fn strip_region_prefix(s: &str) -> Option<&str> {
    let rest = REGIONS
        .iter()
        .filter_map(|r| s.strip_prefix(r))
        .min_by_key(|r| r.len())?;
    let rest = REGION_MARKERS.iter().find_map(|m| rest.strip_prefix(m)).unwrap_or(rest);
    Some(rest)
}

fn strip_region_suffix(s: &str) -> Option<&str> {
    REGIONS.iter().find_map(|r| {
        let rest = s.strip_suffix(r).or_else(|| {
            REGION_MARKERS
                .iter()
                .find_map(|m| s.strip_suffix(m).and_then(|x| x.strip_suffix(r)))
        })?;
        Some(rest)
    })
}

/// The core of a name (see [`Core`]).
pub fn core_of(name: &str) -> Core {
    let words = key_words(name);
    let mut han = String::new();
    let mut latin: Vec<String> = Vec::new();
    for w in &words {
        let mut run = String::new();
        for c in w.chars() {
            if is_han(c) {
                han.push(c);
                if !run.is_empty() {
                    latin.push(std::mem::take(&mut run));
                }
            } else if c.is_alphanumeric() {
                run.push(c);
            }
        }
        if !run.is_empty() {
            latin.push(run);
        }
    }
    // Each step keeps at least two characters, so a name is never left without its core; the
    // industry words go before the region in front, so a name that is only a region and an
    // industry (北京科技) keeps its region as its core.
    let long_enough = |s: &str| s.chars().count() >= 2;
    let mut core = han.as_str();
    while let Some(rest) = strip_region_suffix(core).filter(|r| long_enough(r)) {
        core = rest;
    }
    while let Some(rest) = INDUSTRY_WORDS
        .iter()
        .filter_map(|w| core.strip_suffix(w))
        .filter(|r| long_enough(r))
        .min_by_key(|r| r.len())
    {
        core = rest;
    }
    while let Some(rest) = strip_region_prefix(core).filter(|r| long_enough(r)) {
        core = rest;
    }
    let kept: Vec<String> = latin
        .iter()
        .filter(|w| !LATIN_CONTEXT_WORDS.contains(&w.as_str()) && !LATIN_SUFFIXES.contains(&w.as_str()))
        .cloned()
        .collect();
    Core {
        han: core.to_string(),
        words: if kept.is_empty() { latin } else { kept },
    }
}

/// Whether two Latin words read as the same word: equal, or one slip apart (a letter missing,
/// added, changed or two swapped) in words of at least five letters that start alike.
fn same_word(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a.len().min(b.len()) < 5 || a.len().abs_diff(b.len()) > 1 || a[0] != b[0] {
        return false;
    }
    // Optimal string alignment distance, stopped once it exceeds one.
    let mut prev2: Vec<usize> = Vec::new();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                cur[j] = cur[j].min(prev2[j - 2] + 1);
            }
        }
        prev2 = std::mem::replace(&mut prev, cur);
    }
    prev[b.len()] <= 1
}

/// The units two cores are compared by: bigrams of the Chinese part (its one character when it
/// has one), and the Latin words.
fn units(core: &Core) -> (Vec<String>, Vec<String>) {
    let chars: Vec<char> = core.han.chars().collect();
    let grams = match chars.len() {
        0 => Vec::new(),
        1 => vec![core.han.clone()],
        _ => chars.windows(2).map(|w| w.iter().collect()).collect(),
    };
    (grams, core.words.clone())
}

/// Sørensen–Dice over two unit lists, units matching under `same`.
fn dice(a: &[String], b: &[String], same: impl Fn(&str, &str) -> bool) -> (usize, usize) {
    let mut rest: Vec<&String> = b.iter().collect();
    let mut common = 0;
    for x in a {
        if let Some(i) = rest.iter().position(|y| same(x, y)) {
            rest.swap_remove(i);
            common += 1;
        }
    }
    (common, a.len() + b.len())
}

/// How alike two company names are (0..=1): 1 for the same duplicate key, 0.9 for the same
/// core under a different region, industry word or legal form, otherwise the Sørensen–Dice
/// coefficient of their cores (Chinese bigrams and Latin words, a one-letter slip forgiven in
/// long words).
pub fn similarity(a: &str, b: &str) -> f64 {
    let (ka, kb) = (name_key(a), name_key(b));
    if ka.is_empty() || kb.is_empty() {
        return 0.0;
    }
    if ka == kb {
        return 1.0;
    }
    let (ca, cb) = (core_of(a), core_of(b));
    if ca.is_empty() || cb.is_empty() {
        return 0.0;
    }
    if ca == cb {
        return SAME_CORE;
    }
    let ((ga, wa), (gb, wb)) = (units(&ca), units(&cb));
    let (c1, t1) = dice(&ga, &gb, |x, y| x == y);
    let (c2, t2) = dice(&wa, &wb, same_word);
    let score = (2 * (c1 + c2)) as f64 / (t1 + t2) as f64;
    score.min(SAME_CORE)
}

/// The bigrams a close match must share with a name: its core's, or the key's when the core
/// has none (candidates for [`similarity`], looked up in the search index).
pub fn candidate_texts(name: &str) -> Vec<String> {
    let core = core_of(name);
    let mut texts: Vec<String> = core.words.clone();
    if !core.han.is_empty() {
        texts.push(core.han.clone());
    }
    if texts.iter().all(|t| t.chars().count() < 2) {
        return vec![name_key(name)];
    }
    texts
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
        assert_eq!(similarity("acme", "ACME Ltd."), 1.0);
        assert_eq!(similarity("", "acme"), 0.0);
        assert!(similarity("Acme Trading", "Acme Tradng") >= CLOSE_MATCH_THRESHOLD);
    }

    #[test]
    fn traditional_characters_fold_to_simplified() {
        assert_eq!(name_key("華為技術有限公司"), name_key("华为技术有限公司"));
        assert_eq!(name_key("廣州白雲山醫藥集團股份有限公司"), "广州白云山医药");
        assert_eq!(normalize_text("臺灣積體電路"), "台湾积体电路");
        let index = index_grams(&["華為技術有限公司"]);
        let q = parse_query("华为技术").unwrap();
        assert!(q.grams.iter().all(|g| index.binary_search(g).is_ok()));
    }

    #[test]
    fn the_core_is_what_a_person_reads_as_the_name() {
        let han = |n: &str| core_of(n).han;
        assert_eq!(han("广州市白云山制药有限公司"), "白云山");
        assert_eq!(han("广州白云山医药集团"), "白云山");
        assert_eq!(han("北京字节跳动科技有限公司"), "字节跳动");
        assert_eq!(han("北京小米科技有限责任公司"), "小米");
        assert_eq!(han("腾飞科技（深圳）有限公司"), "腾飞");
        assert_eq!(han("广东省深圳市腾飞电子科技有限公司"), "腾飞");
        // Nothing but region and industry words: the name keeps what it has.
        assert_eq!(han("北京科技有限公司"), "北京");
        assert_eq!(core_of("Apple Inc.").words, ["apple"]);
        assert_eq!(core_of("Applebee's Inc.").words, ["applebees"]);
        assert_eq!(core_of("Siemens Ltd., China").words, ["siemens"]);
        assert_eq!(core_of("Global Trading Ltd").words, ["global", "trading"]);
    }

    /// Pairs a person reading both names would call the same name (`Exact`: refused on create),
    /// a possible duplicate to offer (`Close`), or two companies (`Distinct`).
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Kind {
        Exact,
        Close,
        Distinct,
    }

    const PAIRS: &[(&str, &str, Kind)] = &[
        // Exact: the same name in traditional and simplified characters, widths, cases, spaces
        // and legal forms.
        ("华为技术有限公司", "華為技術有限公司", Kind::Exact),
        (
            "深圳市腾讯计算机系统有限公司",
            "深圳市騰訊計算機系統有限公司",
            Kind::Exact,
        ),
        ("阿里巴巴集团控股有限公司", "阿里巴巴集團控股有限公司", Kind::Exact),
        (
            "台湾积体电路制造股份有限公司",
            "臺灣積體電路製造股份有限公司",
            Kind::Exact,
        ),
        ("鸿海精密工业股份有限公司", "鴻海精密工業股份有限公司", Kind::Exact),
        (
            "广州白云山医药集团股份有限公司",
            "廣州白雲山醫藥集團股份有限公司",
            Kind::Exact,
        ),
        ("长江和记实业有限公司", "長江和記實業有限公司", Kind::Exact),
        ("国泰航空有限公司", "國泰航空有限公司", Kind::Exact),
        ("联想集团有限公司", "聯想集團有限公司", Kind::Exact),
        ("中国银行股份有限公司", "中國銀行股份有限公司", Kind::Exact),
        ("深圳市腾飞科技有限公司", "深圳市腾飞科技", Kind::Exact),
        (
            "深圳市腾飞科技有限公司",
            "  深圳市 腾飞 科技（集团）股份有限公司 ",
            Kind::Exact,
        ),
        ("华为技术有限公司", "华为技术有限责任公司", Kind::Exact),
        ("北京小米科技有限责任公司", "北京小米科技有限公司", Kind::Exact),
        ("ＡＣＭＥ Co., Ltd.", "acme ltd", Kind::Exact),
        ("Acme GmbH", "ACME, Inc.", Kind::Exact),
        ("Banco Santander, S.A.", "Banco Santander SA", Kind::Exact),
        ("Talleres García S.L.", "TALLERES GARCÍA, S.L.", Kind::Exact),
        ("Global Widgets Holdings Limited", "Global Widgets Ltd", Kind::Exact),
        ("Siemens AG", "SIEMENS", Kind::Exact),
        ("Apple Inc.", "Apple, Inc", Kind::Exact),
        ("Marks & Spencer plc", "Marks and Spencer PLC", Kind::Close),
        ("Deutsche Bahn AG", "Deutsche-Bahn AG", Kind::Exact),
        ("Coca-Cola Company", "Coca Cola Co.", Kind::Exact),
        ("腾飞科技（深圳）有限公司", "騰飛科技(深圳)有限公司", Kind::Exact),
        (
            "上海浦东发展银行股份有限公司",
            "上海浦東發展銀行股份有限公司",
            Kind::Exact,
        ),
        ("美的集团股份有限公司", "美的集團", Kind::Exact),
        ("比亚迪股份有限公司", "比亞迪股份有限公司", Kind::Exact),
        ("京东方科技集团股份有限公司", "京東方科技集團股份有限公司", Kind::Exact),
        ("中兴通讯股份有限公司", "中興通訊股份有限公司", Kind::Exact),
        ("Telefónica, S.A.", "TELEFÓNICA SA", Kind::Exact),
        // Close: the same core under another region prefix, industry word or legal form, or
        // with a slip.
        ("广州市白云山制药有限公司", "广州白云山医药集团", Kind::Close),
        ("深圳腾飞科技", "深圳市腾飞电子有限公司", Kind::Close),
        ("深圳市腾飞科技有限公司", "腾飞科技（深圳）有限公司", Kind::Close),
        ("北京字节跳动科技有限公司", "字节跳动网络技术有限公司", Kind::Close),
        ("北京小米科技有限责任公司", "小米通讯技术有限公司", Kind::Close),
        ("华为技术有限公司", "深圳华为科技", Kind::Close),
        ("華為技術有限公司", "华为投资控股有限公司", Kind::Close),
        ("杭州海康威视数字技术股份有限公司", "海康威视科技", Kind::Close),
        ("广东美的制冷设备有限公司", "美的制冷", Kind::Close),
        ("上海腾飞贸易有限公司", "上海市腾飞商贸有限公司", Kind::Close),
        ("东莞市华达电子有限公司", "广东东莞华达电子科技有限公司", Kind::Close),
        ("苏州恒瑞医药", "江苏恒瑞医药股份有限公司", Kind::Close),
        ("厦门金龙汽车集团", "金龙汽车", Kind::Close),
        ("青岛海尔股份有限公司", "海尔集团公司", Kind::Close),
        ("宁波舟山港股份有限公司", "宁波市舟山港集团", Kind::Close),
        ("臺北市鼎泰豐餐飲有限公司", "鼎泰丰餐饮", Kind::Close),
        ("香港长江实业", "长江实业（集团）有限公司", Kind::Close),
        ("成都天府软件园有限公司", "四川成都天府软件园", Kind::Close),
        ("武汉光谷生物科技", "湖北省武汉光谷生物医药", Kind::Close),
        ("Microsoft Corporation", "Mircosoft Corp", Kind::Close),
        ("Siemens AG", "Siemens Ltd., China", Kind::Close),
        ("Nordwind Handel GmbH", "Nordwind Handels GmbH", Kind::Close),
        ("Acme Trading Ltd", "Acme International Trading Co", Kind::Close),
        (
            "Huawei Technologies Co., Ltd.",
            "Huawei Technologies Deutschland GmbH",
            Kind::Close,
        ),
        ("Talleres García S.L.", "Talleres Garcia S.L.", Kind::Close),
        ("Apple Inc.", "Apple Computer Inc", Kind::Close),
        ("Schneider Electric", "Schneider Electric Industries SAS", Kind::Close),
        ("Lenovo Group Limited", "Lenovo (Beijing) Ltd", Kind::Close),
        ("Bosch Rexroth AG", "Bosch Rexroth Spain S.L.", Kind::Close),
        ("Foxconn Technology Group", "Foxconn Industries", Kind::Close),
        ("Marks & Spencer plc", "Marks Spencer Group", Kind::Exact),
        ("Zara España, S.A.", "Zara Spain SL", Kind::Close),
        ("中山大洋电机股份有限公司", "大洋电机", Kind::Close),
        // Distinct: a shared city, industry word or legal form is not a shared name.
        ("北京字节跳动科技有限公司", "北京小米科技有限责任公司", Kind::Distinct),
        ("深圳市腾飞科技有限公司", "深圳市腾达科技有限公司", Kind::Distinct),
        ("广州市白云山制药有限公司", "广州医药集团有限公司", Kind::Distinct),
        ("华为技术有限公司", "中兴通讯股份有限公司", Kind::Distinct),
        ("中国银行股份有限公司", "中国建设银行股份有限公司", Kind::Distinct),
        ("上海腾飞贸易有限公司", "上海飞腾贸易有限公司", Kind::Distinct),
        ("杭州阿里巴巴网络科技", "杭州网易网络科技", Kind::Distinct),
        ("北京百度网讯科技有限公司", "北京京东世纪贸易有限公司", Kind::Distinct),
        (
            "深圳市大疆创新科技有限公司",
            "深圳市大族激光科技股份有限公司",
            Kind::Distinct,
        ),
        ("广东美的集团", "广东格力电器", Kind::Distinct),
        ("青岛海尔股份有限公司", "青岛海信电器股份有限公司", Kind::Distinct),
        ("苏州恒瑞医药", "苏州恒立液压", Kind::Distinct),
        ("东莞市华达电子有限公司", "东莞市华通电子有限公司", Kind::Distinct),
        ("厦门金龙汽车集团", "厦门金旅客车", Kind::Distinct),
        ("成都天府软件园有限公司", "成都天府国际机场", Kind::Distinct),
        ("武汉光谷生物科技", "武汉长江生物科技", Kind::Distinct),
        ("臺北市鼎泰豐餐飲有限公司", "台北市鼎王餐饮有限公司", Kind::Distinct),
        ("宁波舟山港股份有限公司", "宁波银行股份有限公司", Kind::Distinct),
        ("香港长江实业", "香港新鸿基地产", Kind::Distinct),
        ("北京科技有限公司", "上海科技有限公司", Kind::Distinct),
        ("Apple Inc.", "Applebee's Inc.", Kind::Distinct),
        ("Siemens AG", "Siemens Energy AG", Kind::Close),
        ("Microsoft Corporation", "Micron Technology Inc", Kind::Distinct),
        ("Acme Trading Ltd", "Apex Trading Ltd", Kind::Distinct),
        ("Global Trading Ltd", "Global Logistics Ltd", Kind::Distinct),
        ("Banco Santander, S.A.", "Banco Sabadell, S.A.", Kind::Distinct),
        ("Deutsche Bahn AG", "Deutsche Bank AG", Kind::Distinct),
        ("Huawei Technologies Co., Ltd.", "ZTE Corporation", Kind::Distinct),
        ("Nordwind Handel GmbH", "Südwind Handel GmbH", Kind::Distinct),
        ("China Trading Co.", "Asia Trading Co.", Kind::Distinct),
        ("Talleres García S.L.", "Talleres Martínez S.L.", Kind::Distinct),
        ("Schneider Electric", "General Electric", Kind::Distinct),
        ("Bosch Rexroth AG", "Bosch Siemens Hausgeräte GmbH", Kind::Distinct),
    ];

    fn judged(a: &str, b: &str) -> Kind {
        if name_key(a) == name_key(b) {
            Kind::Exact
        } else if similarity(a, b) >= CLOSE_MATCH_THRESHOLD {
            Kind::Close
        } else {
            Kind::Distinct
        }
    }

    /// Offering a match (exact or close) is the decision that matters to a person: precision is
    /// the share of offered pairs that are duplicates, recall the share of duplicates offered.
    /// Bar: precision ≥ 0.95 and recall ≥ 0.90 over the pairs, and every exact pair exact.
    #[test]
    fn precision_and_recall_over_named_pairs() {
        let count = |k: Kind| PAIRS.iter().filter(|p| p.2 == k).count();
        assert!(count(Kind::Exact) >= 30 && count(Kind::Close) >= 30 && count(Kind::Distinct) >= 30);
        let (mut tp, mut fp, mut fn_) = (0usize, 0usize, 0usize);
        let mut wrong = Vec::new();
        for (a, b, want) in PAIRS {
            let got = judged(a, b);
            assert_eq!(got, judged(b, a), "{a} / {b} is not symmetric");
            let (offered, duplicate) = (got != Kind::Distinct, *want != Kind::Distinct);
            match (offered, duplicate) {
                (true, true) => tp += 1,
                (true, false) => fp += 1,
                (false, true) => fn_ += 1,
                (false, false) => {}
            }
            if got != *want {
                wrong.push(format!("{a} / {b}: {got:?} ({:.2}), want {want:?}", similarity(a, b)));
            }
        }
        let precision = tp as f64 / (tp + fp) as f64;
        let recall = tp as f64 / (tp + fn_) as f64;
        println!(
            "duplicate names: {} pairs, precision {precision:.3}, recall {recall:.3}; judged otherwise:\n{}",
            PAIRS.len(),
            wrong.join("\n")
        );
        assert!(precision >= 0.95, "precision {precision:.3}:\n{}", wrong.join("\n"));
        assert!(recall >= 0.90, "recall {recall:.3}:\n{}", wrong.join("\n"));
        let exact_missed: Vec<_> = PAIRS
            .iter()
            .filter(|(a, b, k)| *k == Kind::Exact && judged(a, b) != Kind::Exact)
            .collect();
        assert!(exact_missed.is_empty(), "{exact_missed:?}");
    }
}
