//! Trunk's post-build hook (see `Trunk.toml`): splits the console's wasm module in two at its
//! lazy routes (`frontend/src/app.rs`), so a cold `/login` downloads the shell and the sign-in
//! page, and the signed-in pages' module follows in the background.
//!
//! Trunk cannot split a module itself: the split has to happen between cargo's link and
//! wasm-bindgen. So Trunk builds as usual (cargo, then wasm-bindgen, without wasm-opt), and this
//! step redoes the part after the link the way cargo-leptos' `--split` does: it splits cargo's
//! module (linked with `--emit-relocs`, see `.cargo/config.toml`) with `wasm_split_cli_support`,
//! runs wasm-bindgen on the main part, optimises every part with `wasm-opt -Oz` (release), and
//! puts them in Trunk's staging directory under Trunk's own names, so `index.html` loads them
//! unchanged. Every file it adds carries a content hash in its name: the server caches all but
//! `index.html` for good.

use anyhow::{bail, Context};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The frontend's binary name, Trunk's prefix for its output files.
const APP: &str = "steward-frontend";

fn main() -> anyhow::Result<()> {
    let staging =
        PathBuf::from(std::env::var("TRUNK_STAGING_DIR").context("run by Trunk: TRUNK_STAGING_DIR is unset")?);
    let release = std::env::var("TRUNK_PROFILE").is_ok_and(|p| p == "release");
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let target = match std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from) {
        Some(dir) if dir.is_relative() => root.join(dir),
        Some(dir) => dir,
        None => root.join("target"),
    };
    // `index.html` builds release with the `wasm-release` profile (`data-cargo-profile-release`).
    let profile = if release { "wasm-release" } else { "debug" };
    let linked = target.join("wasm32-unknown-unknown").join(profile).join(format!("{APP}.wasm"));
    let stem = trunk_stem(&staging)?;

    let work = target.join("console-split");
    if work.exists() {
        std::fs::remove_dir_all(&work)?;
    }
    std::fs::create_dir_all(&work)?;
    let input = std::fs::read(&linked).with_context(|| format!("reading {}", linked.display()))?;
    let main_wasm = work.join("main.wasm");
    let link_name = format!("./{stem}-split.js");
    let main_module = format!("./{stem}.js");
    let split = wasm_split_cli_support::transform({
        let mut options = wasm_split_cli_support::Options::new(&input);
        options.output_dir = &work;
        options.main_out_path = &main_wasm;
        options.link_name = &link_name;
        options.main_module = &main_module;
        options
    })
    .map_err(|e| anyhow::anyhow!("splitting {}: {e:?}", linked.display()))?;

    let bindgen = work.join("bindgen");
    run(Command::new("wasm-bindgen")
        .args(["--target", "web", "--no-typescript", "--keep-lld-exports", "--no-demangle", "--out-name", &stem])
        .arg("--out-dir")
        .arg(&bindgen)
        .arg(&main_wasm))?;
    let main_bg = bindgen.join(format!("{stem}_bg.wasm"));
    if release {
        optimise(&main_bg)?;
    }

    // The lazily loaded parts: optimised, then named by their content; the link module that
    // fetches them is told the new names.
    let link_path = work.join(link_name.trim_start_matches("./"));
    let mut link = std::fs::read_to_string(&link_path).with_context(|| format!("reading {}", link_path.display()))?;
    for part in &split.split_modules {
        if release {
            optimise(part)?;
        }
        let bytes = std::fs::read(part)?;
        let name = part.file_stem().and_then(|s| s.to_str()).context("a part without a name")?;
        let hashed = format!("{name}-{}.wasm", &hex::encode(Sha256::digest(&bytes))[..16]);
        let quoted = format!("\"./{name}.wasm\"");
        if !link.contains(&quoted) {
            bail!("the link module does not load {quoted}");
        }
        link = link.replace(&quoted, &format!("\"./{hashed}\""));
        std::fs::write(staging.join(&hashed), &bytes)?;
    }
    std::fs::write(staging.join(link_name.trim_start_matches("./")), link)?;
    std::fs::copy(bindgen.join(format!("{stem}.js")), staging.join(format!("{stem}.js")))?;
    std::fs::copy(&main_bg, staging.join(format!("{stem}_bg.wasm")))?;
    let main_size = std::fs::metadata(&main_bg)?.len();
    println!(
        "console-split: {} lazily loaded parts beside a main module of {} KB",
        split.split_modules.len(),
        main_size / 1024
    );
    Ok(())
}

/// Trunk's name for the app's files in this build: `steward-frontend-<hash>` (its `.js` and
/// `_bg.wasm`).
fn trunk_stem(staging: &Path) -> anyhow::Result<String> {
    let mut stems = Vec::new();
    for entry in std::fs::read_dir(staging)? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if let Some(stem) =
            name.strip_suffix(".js").filter(|s| s.starts_with(&format!("{APP}-")) && !s.ends_with("-split"))
        {
            stems.push(stem.to_owned());
        }
    }
    match stems.as_slice() {
        [one] => Ok(one.clone()),
        _ => bail!("expected one {APP}-<hash>.js in {}, found {stems:?}", staging.display()),
    }
}

/// `wasm-opt -Oz` in place, with the features Rust's wasm32 target enables by default (a split
/// part carries no `target_features` section for wasm-opt to read them from).
fn optimise(file: &Path) -> anyhow::Result<()> {
    run(Command::new("wasm-opt")
        .args([
            "-Oz",
            "--enable-bulk-memory",
            "--enable-nontrapping-float-to-int",
            "--enable-sign-ext",
            "--enable-mutable-globals",
            "--enable-reference-types",
            "--enable-multivalue",
        ])
        .arg(file)
        .arg("-o")
        .arg(file))
}

fn run(command: &mut Command) -> anyhow::Result<()> {
    let status = command.status().with_context(|| format!("running {:?} (is it on PATH?)", command.get_program()))?;
    if !status.success() {
        bail!("{command:?} failed: {status}");
    }
    Ok(())
}
