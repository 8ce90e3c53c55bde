//! A bundle: the files of one application version, read from an uploaded `.tar.gz` or a Git
//! tree under the same limits, and written back as a normalized archive (sorted entries, no
//! owners or times) whose SHA-256 is the version's digest. Nothing read ever touches the disk:
//! a path that would leave the bundle, a link, a device or an archive past a limit is refused
//! before any of it is used.

use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Read;

use crate::http::error::AppError;

/// Largest accepted upload (compressed).
pub const ARCHIVE_MAX_BYTES: usize = 16 * 1024 * 1024;
/// Largest a bundle may unpack to.
pub const UNPACKED_MAX_BYTES: u64 = 64 * 1024 * 1024;
/// Largest single file.
pub const FILE_MAX_BYTES: u64 = 8 * 1024 * 1024;
/// Most entries (files and directories).
pub const ENTRIES_MAX: usize = 2_000;
/// Deepest path, in components.
const DEPTH_MAX: usize = 16;

/// The manifest's file name, at the bundle's root.
pub const MANIFEST: &str = "steward.json";

/// Files by path relative to the bundle's root (`models/contact.json`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Bundle {
    pub files: BTreeMap<String, Vec<u8>>,
}

/// Counts what a bundle has taken so far against the limits.
#[derive(Default)]
pub struct Budget {
    entries: usize,
    bytes: u64,
}

impl Budget {
    /// Takes one entry of `size` bytes at `path`.
    pub fn take(&mut self, path: &str, size: u64) -> Result<(), AppError> {
        self.entries += 1;
        if self.entries > ENTRIES_MAX {
            return Err(AppError::PayloadTooLarge(format!("The bundle has more than {ENTRIES_MAX} entries.")));
        }
        if size > FILE_MAX_BYTES {
            return Err(AppError::PayloadTooLarge(format!(
                "`{path}` is {size} bytes; a bundle file may have at most {FILE_MAX_BYTES}."
            )));
        }
        self.bytes += size;
        if self.bytes > UNPACKED_MAX_BYTES {
            return Err(AppError::PayloadTooLarge(format!(
                "The bundle unpacks to more than {} MiB.",
                UNPACKED_MAX_BYTES / 1024 / 1024
            )));
        }
        Ok(())
    }
}

/// The path as a bundle path, or why it is refused: absolute paths, `..`, backslashes, empty
/// or control characters, and paths deeper than the limit would leave or confuse the bundle.
pub fn safe_path(raw: &str) -> Result<String, AppError> {
    let refuse = |why: &str| AppError::field("archive", format!("entry `{}` {why}", raw.escape_default()));
    if raw.starts_with('/') || raw.contains('\\') || raw.chars().any(char::is_control) {
        return Err(refuse("leaves the bundle (absolute path, backslash or control character)"));
    }
    let mut parts = Vec::new();
    for part in raw.split('/') {
        match part {
            "" | "." => continue,
            ".." => return Err(refuse("leaves the bundle (`..`)")),
            p if p.len() > 255 => return Err(refuse("has a name longer than 255 bytes")),
            p => parts.push(p),
        }
    }
    if parts.is_empty() {
        return Err(refuse("has no name"));
    }
    if parts.len() > DEPTH_MAX {
        return Err(refuse("is nested too deep"));
    }
    Ok(parts.join("/"))
}

impl Bundle {
    /// Adds a file, refusing a second file at the same path.
    pub fn add(&mut self, path: String, body: Vec<u8>) -> Result<(), AppError> {
        if self.files.contains_key(&path) {
            return Err(AppError::field("archive", format!("entry `{path}` appears twice")));
        }
        self.files.insert(path, body);
        Ok(())
    }

    /// Reads an uploaded `.tar.gz`. A bundle wrapped in one top-level directory (as `tar czf
    /// app.tar.gz app/` makes) is unwrapped.
    pub fn from_archive(bytes: &[u8]) -> Result<Self, AppError> {
        if !bytes.starts_with(&[0x1f, 0x8b]) {
            return Err(AppError::field("archive", "is not a gzip-compressed tar archive"));
        }
        // Headers and padding add at most two blocks per entry, plus the end marker.
        let ceiling = UNPACKED_MAX_BYTES + (ENTRIES_MAX as u64 + 2) * 1024 + 1;
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes).take(ceiling));
        let broken = |e: std::io::Error| AppError::field("archive", format!("cannot be read: {e}"));
        let mut bundle = Bundle::default();
        let mut budget = Budget::default();
        for entry in archive.entries().map_err(broken)? {
            let mut entry = entry.map_err(broken)?;
            let raw = String::from_utf8(entry.path_bytes().into_owned())
                .map_err(|_| AppError::field("archive", "has an entry whose name is not UTF-8"))?;
            let path = safe_path(&raw)?;
            let kind = entry.header().entry_type();
            let size = entry.header().size().map_err(broken)?;
            budget.take(&path, if kind.is_file() { size } else { 0 })?;
            match kind {
                k if k.is_dir() => continue,
                k if k.is_file() => {
                    let mut body = Vec::with_capacity(size as usize);
                    (&mut entry).take(FILE_MAX_BYTES + 1).read_to_end(&mut body).map_err(broken)?;
                    bundle.add(path, body)?;
                }
                k if k.is_symlink() || k.is_hard_link() => {
                    return Err(AppError::field(
                        "archive",
                        format!("entry `{path}` is a link; bundles hold files only"),
                    ))
                }
                _ => return Err(AppError::field("archive", format!("entry `{path}` is not a file or a directory"))),
            }
        }
        if bundle.files.is_empty() {
            return Err(AppError::field("archive", "holds no files"));
        }
        Ok(bundle.unwrapped())
    }

    /// Without the single top-level directory the files sit in, when the manifest is there.
    fn unwrapped(self) -> Self {
        if self.files.contains_key(MANIFEST) {
            return self;
        }
        let Some(top) = self.files.keys().next().and_then(|k| k.split_once('/')).map(|(t, _)| format!("{t}/")) else {
            return self;
        };
        if !self.files.keys().all(|k| k.starts_with(&top)) || !self.files.contains_key(&format!("{top}{MANIFEST}")) {
            return self;
        }
        let files =
            self.files.into_iter().map(|(k, v)| (k.get(top.len()..).unwrap_or_default().to_owned(), v)).collect();
        Self { files }
    }

    /// The normalized archive: entries sorted by path, mode 0644, no owners, time zero.
    pub fn to_archive(&self) -> Result<Vec<u8>, AppError> {
        let gz = flate2::GzBuilder::new().mtime(0).write(Vec::new(), flate2::Compression::default());
        let mut tar = tar::Builder::new(gz);
        tar.mode(tar::HeaderMode::Deterministic);
        for (path, body) in &self.files {
            let mut header = tar::Header::new_gnu();
            header.set_size(body.len() as u64);
            header.set_mode(0o644);
            header.set_mtime(0);
            header.set_entry_type(tar::EntryType::Regular);
            tar.append_data(&mut header, path, body.as_slice()).map_err(AppError::internal)?;
        }
        tar.into_inner().and_then(|gz| gz.finish()).map_err(AppError::internal)
    }

    /// Bytes over all files.
    pub fn size(&self) -> u64 {
        self.files.values().map(|b| b.len() as u64).sum()
    }

    /// The files under `dir/` (relative to it), in path order.
    pub fn under<'a>(&'a self, dir: &'a str) -> impl Iterator<Item = (&'a str, &'a [u8])> + 'a {
        let prefix = format!("{dir}/");
        self.files.iter().filter_map(move |(k, v)| k.strip_prefix(prefix.as_str()).map(|rest| (rest, v.as_slice())))
    }
}

/// SHA-256, hex.
pub fn digest(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A digest over a set of files (path and content), the same whatever they were read from.
pub fn files_digest<'a>(files: impl Iterator<Item = (&'a str, &'a [u8])>) -> String {
    let mut h = Sha256::new();
    for (path, body) in files {
        h.update((path.len() as u64).to_be_bytes());
        h.update(path.as_bytes());
        h.update((body.len() as u64).to_be_bytes());
        h.update(body);
    }
    hex::encode(h.finalize())
}
