//! The web console, served at `/` from the files built into the gateway (see `build.rs`): the
//! same origin as the API, so no CORS. Every answer carries a strict Content-Security-Policy (no
//! inline scripts; styles only from the console's files or with the per-answer nonce the page
//! hands its style engine), `frame-ancestors 'none'`, and no-sniff and no-referrer headers.
//! Hashed assets (`/assets/*`) are cached for a year; the page itself is revalidated every time,
//! so a new gateway's console is picked up at once.

use bytes::Bytes;
use http::{HeaderValue, Method, Response, StatusCode, header};
use tonic::body::Body;

include!(concat!(env!("OUT_DIR"), "/console_files.rs"));

/// What `index.html` holds where the gateway puts each answer's nonce.
const NONCE_PLACEHOLDER: &str = "__CSP_NONCE__";

/// The console's answer to `GET`/`HEAD` of `path`, or `None` for a path the console does not
/// own (the API's `/v1/...`, `/openapi.json`, health).
pub fn serve(method: &Method, path: &str) -> Option<Response<Body>> {
    if !matches!(*method, Method::GET | Method::HEAD) || path.starts_with("/v1/") || path == "/v1" {
        return None;
    }
    let head = *method == Method::HEAD;
    if let Some(asset) = path.strip_prefix("/assets/") {
        return Some(match file(&format!("/assets/{asset}")) {
            Some(bytes) => answer(
                StatusCode::OK,
                content_type(path),
                "public, max-age=31536000, immutable",
                Bytes::from_static(bytes),
                None,
                head,
            ),
            None => not_found(head),
        });
    }
    // The page's own routes (`/customers`, `/leads/7`) are the page: the console routes them.
    let last = path.rsplit('/').next().unwrap_or("");
    if last.contains('.') && path != "/index.html" {
        return Some(match file(path) {
            Some(bytes) => answer(
                StatusCode::OK,
                content_type(path),
                "no-cache",
                Bytes::from_static(bytes),
                None,
                head,
            ),
            None => not_found(head),
        });
    }
    let Some(index) = file("/index.html") else {
        return Some(answer(
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            "no-store",
            Bytes::from_static(b"the web console is not built into this gateway (web/console: npm run build)\n"),
            None,
            head,
        ));
    };
    let nonce = crm_kit::config::generate_secret()[..32].to_string();
    let page = String::from_utf8_lossy(index).replace(NONCE_PLACEHOLDER, &nonce);
    Some(answer(
        StatusCode::OK,
        "text/html; charset=utf-8",
        "no-cache",
        Bytes::from(page),
        Some(&nonce),
        head,
    ))
}

fn file(path: &str) -> Option<&'static [u8]> {
    FILES.iter().find(|(p, _)| *p == path).map(|(_, bytes)| *bytes)
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// The policy of every console answer; `nonce` lets the page's style engine add its styles.
pub fn content_security_policy(nonce: Option<&str>) -> String {
    let styles = match nonce {
        Some(n) => format!("style-src 'self' 'nonce-{n}'"),
        None => "style-src 'self'".to_string(),
    };
    format!(
        "default-src 'none'; script-src 'self'; {styles}; img-src 'self' data:; font-src 'self'; \
         connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; \
         frame-ancestors 'none'; object-src 'none'"
    )
}

fn answer(
    status: StatusCode,
    content_type: &'static str,
    cache: &'static str,
    body: Bytes,
    nonce: Option<&str>,
    head: bool,
) -> Response<Body> {
    let length = body.len();
    let body = if head { Bytes::new() } else { body };
    let mut response = Response::new(Body::new(http_body_util::Full::new(body)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(v) = HeaderValue::from_str(&content_security_policy(nonce)) {
        headers.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert("cross-origin-opener-policy", HeaderValue::from_static("same-origin"));
    if head {
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    }
    response
        .extensions_mut()
        .insert(crm_kit::metrics::HttpRoute("/{console}".into()));
    response
}

fn not_found(head: bool) -> Response<Body> {
    answer(
        StatusCode::NOT_FOUND,
        "text/plain; charset=utf-8",
        "no-store",
        Bytes::from_static(b"not found\n"),
        None,
        head,
    )
}
