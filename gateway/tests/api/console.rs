//! The web console at `/`: the page with a strict policy and a fresh nonce per answer, hashed
//! assets cached for a year, the console's own routes answered with the page, and the API's
//! paths left to the API.

use http::Method;

use crate::helpers::start;

#[tokio::test]
async fn the_console_is_served_with_a_strict_policy_and_cached_assets() {
    let system = start().await;
    let http = &system.http;
    let page = http.get("/", None).await.expect(200);
    assert_eq!(page.header("content-type"), Some("text/html; charset=utf-8"));
    assert_eq!(page.header("cache-control"), Some("no-cache"));
    assert_eq!(page.header("x-frame-options"), Some("DENY"));
    assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(page.header("referrer-policy"), Some("no-referrer"));
    let policy = page.header("content-security-policy").expect("a policy").to_string();
    for rule in [
        "default-src 'none'",
        "script-src 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
        "base-uri 'none'",
        "connect-src 'self'",
    ] {
        assert!(policy.contains(rule), "{rule} in {policy}");
    }
    assert!(
        !policy.contains("unsafe-inline") && !policy.contains("unsafe-eval"),
        "{policy}"
    );
    let html = String::from_utf8(page.body.to_vec()).unwrap();
    assert!(
        !html.contains("<script>") && !html.contains("<script type=\"module\">"),
        "no inline script: {html}"
    );
    // The page's nonce is the policy's, and a new one each time.
    let nonce = html
        .split("name=\"csp-nonce\" content=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the nonce in the page")
        .to_string();
    assert_eq!(nonce.len(), 32);
    assert!(policy.contains(&format!("'nonce-{nonce}'")), "{policy}");
    let again = http.get("/", None).await.expect(200);
    assert!(
        !again.header("content-security-policy").unwrap().contains(&nonce),
        "a fresh nonce per answer"
    );

    // The scripts it loads are hashed files, cached for a year.
    let script = html
        .split("src=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a script in the page")
        .to_string();
    assert!(script.starts_with("/assets/"), "{script}");
    let asset = http.get(&script, None).await.expect(200);
    assert_eq!(asset.header("content-type"), Some("text/javascript; charset=utf-8"));
    assert_eq!(
        asset.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    assert!(asset.header("content-security-policy").is_some());
    http.get("/assets/no-such-file.js", None).await.expect(404);

    // The console's routes are the page; HEAD answers the same headers.
    let route = http.get("/customers", None).await.expect(200);
    assert_eq!(route.header("content-type"), Some("text/html; charset=utf-8"));
    let head = http.send(Method::HEAD, "/", None, &[], "").await.expect(200);
    assert!(head.body.is_empty());
    assert!(head.header("content-security-policy").is_some());

    // The API's paths stay the API's: an unknown one is the API's JSON 404.
    let api = http.get("/v1/no-such-thing", None).await.expect(404);
    assert_eq!(api.header("content-type"), Some("application/json"));
    http.get("/openapi.json", None).await.expect(200);
}
