//! Page tokens (`crm_kit::paging`): a token from outside decodes only when it is one this
//! service signed for this query; a token it signed decodes to its cursor; any edit of a
//! token is refused (or, where the edit changes nothing decoded, gives the same cursor).

#![no_main]

use crm_kit::paging::{PageTokenError, PageTokens, fingerprint};
use libfuzzer_sys::fuzz_target;
use serde::{Deserialize, Serialize};

/// The customers list's cursor: its sort value (text or number) and the row's id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Cursor {
    s: Option<String>,
    n: Option<i64>,
    id: String,
}

fuzz_target!(|data: &[u8]| {
    let tokens = PageTokens::new(b"fuzzing page token secret");
    let text = String::from_utf8_lossy(data);
    let fp = fingerprint(&["level_code = \"A\"", "acme", "name desc", "e-1"]);

    // As a token from outside: refused with a reason, or (never in practice) a real one.
    if let Ok(c) = tokens.decode::<Cursor>(&fp, &text) {
        assert_eq!(tokens.decode::<Cursor>(&fp, &tokens.encode(&fp, &c)), Ok(c));
    }

    // As the parts of a query and a cursor: signed, it decodes to itself, for its query only.
    let mut parts = text.split('\n');
    let (filter, query, id) = (
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
    );
    let n = data.len() as i64 * 7919 - 1_000_000;
    let cursor = Cursor {
        s: (data.len() % 2 == 0).then(|| query.to_string()),
        n: (data.len() % 3 == 0).then_some(n),
        id: id.to_string(),
    };
    let mine = fingerprint(&[filter, query]);
    let token = tokens.encode(&mine, &cursor);
    assert_eq!(tokens.decode::<Cursor>(&mine, &token), Ok(cursor.clone()));
    let other = fingerprint(&[query, filter]);
    if other != mine {
        assert_eq!(tokens.decode::<Cursor>(&other, &token), Err(PageTokenError::WrongQuery));
    }
    assert_eq!(
        PageTokens::new(b"another secret").decode::<Cursor>(&mine, &token),
        Err(PageTokenError::Tampered)
    );

    // One character of the token changed, one dropped, one added.
    let at = data.first().map_or(0, |b| usize::from(*b)) % token.len();
    let with = char::from(*data.last().unwrap_or(&b'A'));
    let mut edits = Vec::new();
    let mut changed = token.clone();
    changed.replace_range(at..at + 1, &with.to_string());
    edits.push(changed);
    let mut dropped = token.clone();
    dropped.remove(at);
    edits.push(dropped);
    let mut added = token.clone();
    added.insert(at, with);
    edits.push(added);
    for edited in edits.iter().filter(|e| **e != token) {
        if let Ok(c) = tokens.decode::<Cursor>(&mine, edited) {
            assert_eq!(c, cursor, "an edited token decoded to another cursor: {edited}");
        }
    }
});
