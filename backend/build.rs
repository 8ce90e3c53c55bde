//! Records the git commit the server is built from (for System status and Config), and embeds
//! the built console (Trunk's `dist/`) in the server: every file with its brotli and gzip
//! forms, compressed once here rather than on each request, and a content hash for its ETag.
//! `src/http/console.rs` serves them. Without a `dist/index.html` the table is empty and the
//! server says at `/` that the console was not built into it.
//!
//! `dist/` is watched as a whole, so `trunk build` followed by any cargo command embeds the new
//! console. While it does not exist cargo runs this script on every build (a missing path is
//! always stale): build the console first, as the start and test commands do.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    record_commit();
    embed_console()
}

fn record_commit() {
    let commit = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty());
    if let Some(commit) = commit {
        println!("cargo:rustc-env=STEWARD_GIT_COMMIT={commit}");
    }
    for head in ["../.git/HEAD", "../.git/refs/heads"] {
        if Path::new(head).exists() {
            println!("cargo:rerun-if-changed={head}");
        }
    }
}

fn embed_console() -> Result<(), Box<dyn std::error::Error>> {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let dist = manifest.join("..").join("dist");
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    println!("cargo:rerun-if-changed={}", dist.display());
    let mut table = String::from("&[\n");
    if dist.join("index.html").is_file() {
        let mut files = Vec::new();
        walk(&dist, &mut files)?;
        files.sort();
        for (n, file) in files.iter().enumerate() {
            let raw = std::fs::read(file)?;
            let rel =
                file.strip_prefix(&dist)?.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>();
            let path = format!("/{}", rel.join("/"));
            let raw_at = out.join(format!("console-{n}"));
            std::fs::write(&raw_at, &raw)?;
            let br = keep_if_smaller(&raw, brotli(&raw)?, &out.join(format!("console-{n}.br")))?;
            let gz = keep_if_smaller(&raw, gzip(&raw)?, &out.join(format!("console-{n}.gz")))?;
            let etag = etag(&raw);
            writeln!(
                table,
                "    Asset {{ path: {path:?}, etag: {etag:?}, raw: include_bytes!({raw_at:?}), br: {br}, gz: {gz} }},",
                raw_at = raw_at.display().to_string(),
            )?;
        }
    }
    table.push(']');
    std::fs::write(out.join("console.rs"), table)?;
    Ok(())
}

/// Every file under `dir` (Trunk writes no dotfiles; any there are skipped).
fn walk(dir: &Path, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let kind = entry.file_type()?;
        if kind.is_dir() {
            walk(&entry.path(), files)?;
        } else if kind.is_file() {
            files.push(entry.path());
        }
    }
    Ok(())
}

/// Brotli at its best (quality 11, a 16 MiB window: the wasm module is one file of megabytes).
fn brotli(raw: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    {
        let mut w = brotli::CompressorWriter::new(&mut out, 64 * 1024, 11, 24);
        w.write_all(raw)?;
    }
    Ok(out)
}

fn gzip(raw: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut w = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    w.write_all(raw)?;
    w.finish()
}

/// Writes the compressed form when it saves at least a tenth and returns the expression that
/// includes it (`None` otherwise: a tiny file, or one already compressed).
fn keep_if_smaller(raw: &[u8], packed: Vec<u8>, at: &Path) -> std::io::Result<String> {
    if packed.len() * 10 > raw.len() * 9 {
        return Ok("None".into());
    }
    std::fs::write(at, packed)?;
    Ok(format!("Some(include_bytes!({:?}))", at.display().to_string()))
}

/// The first 20 hex digits of the SHA-256 of the file: its identity for `ETag`.
fn etag(raw: &[u8]) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(raw);
    digest.iter().take(10).fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}
