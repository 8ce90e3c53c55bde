//! Serves the single-page app: by default the console embedded in the binary (see `build.rs`),
//! each file in the encoding the browser takes (brotli, gzip, or as it is) with an `ETag`;
//! with `--assets-dir`, the files of that directory (development: `trunk watch` rebuilds them).
//! Deep links get `index.html`, and anything under `/api` a problem-shaped 404.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};

use crate::http::error::AppError;

/// One file of the built console, as `build.rs` embedded it.
pub struct Asset {
    /// `/index.html`, `/steward-frontend-<hash>_bg.wasm`, …
    pub path: &'static str,
    /// A hash of `raw`: the same file has the same tag in every build and on every replica.
    pub etag: &'static str,
    pub raw: &'static [u8],
    /// Brotli and gzip forms, where they save at least a tenth.
    pub br: Option<&'static [u8]>,
    pub gz: Option<&'static [u8]>,
}

/// The console built into this binary; empty when it was built without `dist/index.html`.
pub static EMBEDDED: &[Asset] = include!(concat!(env!("OUT_DIR"), "/console.rs"));

static BY_PATH: LazyLock<HashMap<&'static str, &'static Asset>> =
    LazyLock::new(|| EMBEDDED.iter().map(|a| (a.path, a)).collect());

/// Whether this binary carries a console.
pub fn embedded() -> bool {
    BY_PATH.contains_key("/index.html")
}

/// The fallback of the whole router.
pub async fn fallback(assets: Option<PathBuf>, req: Request) -> Response {
    let path = req.uri().path();
    if path == "/api" || path.starts_with("/api/") {
        return AppError::NotFound(format!("There is no API endpoint at {path}.")).into_response();
    }
    match assets {
        Some(dir) => from_dir(&dir, req).await,
        None if embedded() => serve(&BY_PATH, req.method(), req.uri().path(), req.headers()),
        None => not_built(
            "This server was built without the console (no <code>dist/index.html</code> when it was compiled). \
             Build the console with <code>trunk build --release</code>, then the server again, or point \
             <code>--assets-dir</code> at a built console.",
        ),
    }
}

fn not_built(why: &str) -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Html(format!(
            "<!doctype html><title>Steward</title><h1>The console is not built</h1><p>{why}</p>\
             <p>The API is up: <a href=\"/api/docs\">/api/docs</a>.</p>"
        )),
    )
        .into_response()
}

/// Trunk hashes every name but `index.html`'s, so those files can be cached for good; the page
/// itself is revalidated on every load (a 304 when it has not changed).
fn cache_control(path: &str) -> HeaderValue {
    HeaderValue::from_static(if path == "/index.html" { "no-cache" } else { "public, max-age=31536000, immutable" })
}

/// One embedded file, or `index.html` for any other path (a deep link into the app).
pub fn serve(
    files: &HashMap<&'static str, &'static Asset>,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return AppError::MethodNotAllowed("The console's files are only read (GET or HEAD).".into()).into_response();
    }
    let Some(asset) = files.get(path).or_else(|| files.get("/index.html")) else {
        return not_built("This server's console has no index.html.");
    };
    let (encoding, bytes) = match accepted(headers) {
        Accepts { br: true, .. } if asset.br.is_some() => ("br", asset.br),
        Accepts { gzip: true, .. } if asset.gz.is_some() => ("gzip", asset.gz),
        _ => ("", None),
    };
    let etag = match encoding {
        "" => format!("\"{}\"", asset.etag),
        "br" => format!("\"{}-br\"", asset.etag),
        _ => format!("\"{}-gz\"", asset.etag),
    };
    let fresh = headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).is_some_and(|tags| {
        tags.split(',').map(str::trim).any(|tag| tag == "*" || tag.trim_start_matches("W/") == etag)
    });
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let body = bytes.unwrap_or(asset.raw);
        let mut r = Response::new(if method == Method::HEAD { Body::empty() } else { Body::from(body) });
        let mime = mime_guess::from_path(asset.path).first_or_octet_stream();
        if let Ok(v) = HeaderValue::from_str(mime.essence_str()) {
            r.headers_mut().insert(header::CONTENT_TYPE, v);
        }
        r.headers_mut().insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
        if !encoding.is_empty() {
            r.headers_mut().insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
        }
        r
    };
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(header::CACHE_CONTROL, cache_control(asset.path));
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    response
}

#[derive(Default)]
struct Accepts {
    br: bool,
    gzip: bool,
}

/// The encodings `Accept-Encoding` admits (RFC 9110 §12.5.3): a coding with `q=0` is refused,
/// and `*` stands for every coding the header does not name.
fn accepted(headers: &HeaderMap) -> Accepts {
    let mut named: HashMap<String, bool> = HashMap::new();
    for value in headers.get_all(header::ACCEPT_ENCODING) {
        let Ok(value) = value.to_str() else { continue };
        for item in value.split(',') {
            let mut parts = item.split(';');
            let coding = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            if coding.is_empty() {
                continue;
            }
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q=").or_else(|| p.trim().strip_prefix("Q=")))
                .filter_map(|q| q.trim().parse::<f32>().ok())
                .next()
                .unwrap_or(1.0);
            named.insert(coding, q > 0.0);
        }
    }
    let any = named.get("*").copied().unwrap_or(false);
    let admits = |coding: &str| named.get(coding).copied().unwrap_or(any);
    Accepts { br: admits("br"), gzip: admits("gzip") || named.get("x-gzip").copied().unwrap_or(false) }
}

/// The files of `dir` (`--assets-dir`), read on each request.
async fn from_dir(dir: &Path, req: Request) -> Response {
    let index = dir.join("index.html");
    if !index.exists() {
        return not_built(&format!(
            "No <code>{}</code>. Build it with <code>trunk build --release</code> (the README's start command does this).",
            index.display()
        ));
    }
    let path = req.uri().path().to_owned();
    let serve = ServeDir::new(dir).fallback(ServeFile::new(&index));
    let is_asset = path.rsplit('/').next().is_some_and(|last| last.contains('.')) && path != "/index.html";
    match serve.oneshot(req).await {
        Ok(response) => {
            let mut response = response.into_response();
            let cache = if is_asset && response.status().is_success() {
                cache_control(&path)
            } else {
                cache_control("/index.html")
            };
            response.headers_mut().insert(header::CACHE_CONTROL, cache);
            response
        }
        Err(never) => match never {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(files: &HashMap<&'static str, &'static Asset>, path: &str, headers: &[(&str, &str)]) -> Response {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.append(header::HeaderName::from_bytes(k.as_bytes()).unwrap(), HeaderValue::from_str(v).unwrap());
        }
        serve(files, &Method::GET, path, &map)
    }

    fn table() -> HashMap<&'static str, &'static Asset> {
        let assets: &'static [Asset] = Box::leak(Box::new([
            Asset {
                path: "/index.html",
                etag: "aaaa",
                raw: b"<html>index</html>",
                br: Some(b"BR-INDEX"),
                gz: Some(b"GZ-INDEX"),
            },
            Asset {
                path: "/app-123_bg.wasm",
                etag: "bbbb",
                raw: b"\0asm-raw",
                br: Some(b"BR-WASM"),
                gz: Some(b"GZ-WASM"),
            },
            Asset { path: "/tiny-9.css", etag: "cccc", raw: b"a{}", br: None, gz: None },
        ]));
        assets.iter().map(|a| (a.path, a)).collect()
    }

    fn body(res: Response) -> Vec<u8> {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        rt.block_on(async { axum::body::to_bytes(res.into_body(), usize::MAX).await.unwrap().to_vec() })
    }

    #[test]
    fn each_file_goes_out_in_the_encoding_the_client_takes() {
        let files = table();
        let res = get(&files, "/app-123_bg.wasm", &[("accept-encoding", "gzip, deflate, br, zstd")]);
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()["content-encoding"], "br");
        assert_eq!(res.headers()["content-type"], "application/wasm");
        assert_eq!(res.headers()["vary"], "accept-encoding");
        assert_eq!(res.headers()["etag"], "\"bbbb-br\"");
        assert_eq!(res.headers()["cache-control"], "public, max-age=31536000, immutable");
        assert_eq!(res.headers()["content-length"], "7");
        assert_eq!(body(res), b"BR-WASM");

        let res = get(&files, "/app-123_bg.wasm", &[("accept-encoding", "gzip")]);
        assert_eq!(
            (res.headers()["content-encoding"].to_str().unwrap(), res.headers()["etag"].to_str().unwrap()),
            ("gzip", "\"bbbb-gz\"")
        );
        assert_eq!(body(res), b"GZ-WASM");
        // Refused with q=0, admitted by `*`, or not asked for at all.
        let res = get(&files, "/app-123_bg.wasm", &[("accept-encoding", "br;q=0, *;q=0.5")]);
        assert_eq!(res.headers()["content-encoding"], "gzip");
        for plain in [&[][..], &[("accept-encoding", "identity")], &[("accept-encoding", "br;q=0, gzip;q=0")]] {
            let res = get(&files, "/app-123_bg.wasm", plain);
            assert!(!res.headers().contains_key("content-encoding"), "{plain:?}");
            assert_eq!(res.headers()["etag"], "\"bbbb\"");
            assert_eq!(body(res), b"\0asm-raw");
        }
        // A file too small to gain from compression is sent as it is to everyone.
        let res = get(&files, "/tiny-9.css", &[("accept-encoding", "br, gzip")]);
        assert!(!res.headers().contains_key("content-encoding"));
        assert_eq!(res.headers()["content-type"], "text/css");
    }

    #[test]
    fn a_matching_etag_is_answered_not_modified() {
        let files = table();
        let res = get(&files, "/", &[("accept-encoding", "br"), ("if-none-match", "\"zzzz-br\", W/\"aaaa-br\"")]);
        assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(res.headers()["etag"], "\"aaaa-br\"");
        assert_eq!(res.headers()["cache-control"], "no-cache");
        assert!(body(res).is_empty());
        // The tag of another encoding, or of another build, is not a match.
        let res = get(&files, "/", &[("accept-encoding", "gzip"), ("if-none-match", "\"aaaa-br\"")]);
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(body(res), b"GZ-INDEX");
    }

    #[test]
    fn deep_links_get_the_page_and_other_methods_are_refused() {
        let files = table();
        for path in ["/", "/admin/users", "/login", "/index.html"] {
            let res = get(&files, path, &[]);
            assert_eq!(res.status(), StatusCode::OK, "{path}");
            assert_eq!(res.headers()["content-type"], "text/html", "{path}");
            assert_eq!(res.headers()["cache-control"], "no-cache", "{path}");
            assert_eq!(body(res), b"<html>index</html>", "{path}");
        }
        let res = serve(&files, &Method::HEAD, "/app-123_bg.wasm", &HeaderMap::new());
        assert_eq!((res.status(), res.headers()["content-length"].to_str().unwrap()), (StatusCode::OK, "8"));
        let res = serve(&files, &Method::POST, "/login", &HeaderMap::new());
        assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    }
}
