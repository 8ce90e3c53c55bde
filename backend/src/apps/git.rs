//! Git sources: a bare clone per repository under the data directory (a cache: any replica
//! can fetch it again), the branch's commits, and one commit's tree read as a bundle under the
//! same limits as an upload. libgit2 is blocking, so every call runs on the blocking pool.

use chrono::{DateTime, Utc};
use std::path::{Path, PathBuf};

use crate::apps::bundle::{safe_path, Budget, Bundle};
use crate::http::error::{AppError, AppResult};

/// A commit of the branch.
#[derive(Debug, Clone, PartialEq)]
pub struct Commit {
    pub sha: String,
    pub summary: String,
    pub author: String,
    pub at: DateTime<Utc>,
}

/// Which URLs the server fetches: `https` always (and `http`); `file` only when the operator
/// allows it (`--allow-file-git`, for tests and air-gapped installs).
pub fn check_url(url: &str, allow_file: bool) -> AppResult<()> {
    let scheme = url.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
    match scheme.as_deref() {
        Some("https" | "http") if url.len() <= 2048 && !url.chars().any(char::is_whitespace) => Ok(()),
        Some("file") if allow_file => Ok(()),
        Some("file") => Err(AppError::field("url", "file URLs are not allowed on this server (`--allow-file-git`)")),
        _ => Err(AppError::field("url", "must be an https:// URL of a Git repository")),
    }
}

/// A branch name Git would accept, without leading `-` or `refs/`.
pub fn check_branch(branch: &str) -> AppResult<()> {
    let ok = !branch.is_empty()
        && branch.len() <= 255
        && !branch.starts_with('-')
        && !branch.starts_with("refs/")
        && git2::Reference::is_valid_name(&format!("refs/heads/{branch}"));
    ok.then_some(()).ok_or_else(|| AppError::field("branch", "is not a valid branch name"))
}

fn cache_dir(data_dir: &Path, url: &str) -> PathBuf {
    let key = crate::apps::bundle::digest(url.as_bytes());
    data_dir.join("git").join(format!("{}.git", key.get(..24).unwrap_or(&key)))
}

fn failed(what: &str, e: git2::Error) -> AppError {
    AppError::Conflict { code: "git_failed", field: Some("url".into()), detail: format!("{what}: {}", e.message()) }
}

/// Fetches `branch` of `url` into the cache; returns the cache's path and the branch head.
fn fetch_blocking(data_dir: &Path, url: &str, branch: &str) -> AppResult<(PathBuf, git2::Oid)> {
    let path = cache_dir(data_dir, url);
    std::fs::create_dir_all(&path).map_err(AppError::internal)?;
    let repo = match git2::Repository::open_bare(&path) {
        Ok(r) => r,
        Err(_) => git2::Repository::init_bare(&path).map_err(|e| failed("cannot create the clone", e))?,
    };
    let mut remote = repo.remote_anonymous(url).map_err(|e| failed("not a repository URL", e))?;
    let tracking = format!("refs/steward/{branch}");
    let refspec = format!("+refs/heads/{branch}:{tracking}");
    let mut opts = git2::FetchOptions::new();
    opts.download_tags(git2::AutotagOption::None);
    remote.fetch(&[refspec.as_str()], Some(&mut opts), None).map_err(|e| failed("fetching the branch failed", e))?;
    let head = repo
        .refname_to_id(&tracking)
        .map_err(|_| AppError::field("branch", format!("the repository has no branch `{branch}`")))?;
    Ok((path, head))
}

/// Resolves `commit` (a prefix of 7–40 hex digits) among the commits of the branch.
fn resolve(repo: &git2::Repository, head: git2::Oid, commit: &str) -> AppResult<git2::Oid> {
    let valid = (7..=40).contains(&commit.len()) && commit.chars().all(|c| c.is_ascii_hexdigit());
    if !valid {
        return Err(AppError::field("commit", "must be 7–40 hex digits"));
    }
    let not_on_branch = || AppError::field("commit", "is not a commit of the branch");
    let oid = repo.revparse_single(commit).and_then(|o| o.peel_to_commit()).map_err(|_| not_on_branch())?.id();
    if oid == head || repo.graph_descendant_of(head, oid).unwrap_or(false) {
        Ok(oid)
    } else {
        Err(not_on_branch())
    }
}

fn tree_bundle(repo: &git2::Repository, oid: git2::Oid) -> AppResult<Bundle> {
    let tree = repo.find_commit(oid).and_then(|c| c.tree()).map_err(|e| failed("reading the commit failed", e))?;
    let mut bundle = Bundle::default();
    let mut budget = Budget::default();
    let mut refusal: Option<AppError> = None;
    tree.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
        let name = entry.name().unwrap_or_default();
        let raw = format!("{dir}{name}");
        let step = (|| -> AppResult<()> {
            let path = safe_path(&raw)?;
            match entry.filemode() {
                0o040000 => budget.take(&path, 0),
                0o100644 | 0o100755 => {
                    let blob = repo.find_blob(entry.id()).map_err(|e| failed("reading a file failed", e))?;
                    budget.take(&path, blob.size() as u64)?;
                    bundle.add(path, blob.content().to_vec())
                }
                0o120000 => {
                    Err(AppError::field("archive", format!("entry `{path}` is a link; bundles hold files only")))
                }
                _ => Err(AppError::field("archive", format!("entry `{path}` is a submodule; bundles hold files only"))),
            }
        })();
        match step {
            Ok(()) => git2::TreeWalkResult::Ok,
            Err(e) => {
                refusal = Some(e);
                git2::TreeWalkResult::Abort
            }
        }
    })
    .ok();
    match refusal {
        Some(e) => Err(e),
        None if bundle.files.is_empty() => Err(AppError::field("commit", "the commit holds no files")),
        None => Ok(bundle),
    }
}

fn commit_row(c: &git2::Commit) -> Commit {
    Commit {
        sha: c.id().to_string(),
        summary: c.summary().unwrap_or_default().chars().take(200).collect(),
        author: c.author().name().unwrap_or_default().to_owned(),
        at: DateTime::from_timestamp(c.time().seconds(), 0).unwrap_or_default(),
    }
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> AppResult<T> + Send + 'static) -> AppResult<T> {
    tokio::task::spawn_blocking(f).await.map_err(AppError::internal)?
}

/// Fetches the branch and reads `commit` (the head when absent) as a bundle.
pub async fn checkout(
    data_dir: PathBuf,
    url: String,
    branch: String,
    commit: Option<String>,
) -> AppResult<(Bundle, Commit)> {
    blocking(move || {
        let (path, head) = fetch_blocking(&data_dir, &url, &branch)?;
        let repo = git2::Repository::open_bare(&path).map_err(|e| failed("cannot open the clone", e))?;
        let oid = match commit.as_deref() {
            Some(c) => resolve(&repo, head, c)?,
            None => head,
        };
        let bundle = tree_bundle(&repo, oid)?;
        let c = repo.find_commit(oid).map_err(|e| failed("reading the commit failed", e))?;
        Ok((bundle, commit_row(&c)))
    })
    .await
}

/// The branch's newest `limit` commits, newest first.
pub async fn commits(data_dir: PathBuf, url: String, branch: String, limit: usize) -> AppResult<Vec<Commit>> {
    blocking(move || {
        let (path, head) = fetch_blocking(&data_dir, &url, &branch)?;
        let repo = git2::Repository::open_bare(&path).map_err(|e| failed("cannot open the clone", e))?;
        let mut walk = repo.revwalk().map_err(|e| failed("walking the branch failed", e))?;
        walk.push(head).map_err(|e| failed("walking the branch failed", e))?;
        walk.set_sorting(git2::Sort::TIME).map_err(|e| failed("walking the branch failed", e))?;
        let mut out = Vec::new();
        for oid in walk.take(limit) {
            let oid = oid.map_err(|e| failed("walking the branch failed", e))?;
            let c = repo.find_commit(oid).map_err(|e| failed("reading a commit failed", e))?;
            out.push(commit_row(&c));
        }
        Ok(out)
    })
    .await
}
