//! Locating the read-only `shared/` data folder (UD treebanks, UNER, the encoder source)
//! for tests, benchmarks and model-building scripts: `$TATRA_SHARED`, or `shared/`
//! beside the repository (see [`shared_dir`]).

use std::path::{Path, PathBuf};

/// The repository root (where the workspace `Cargo.toml` is).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The shared data folder, if it exists: `$TATRA_SHARED`, else the first folder named
/// `shared` (holding `ud/`, `uner/` or `backbone/`) beside or above the working directory
/// or this source tree. Looked up at run time, so a binary built in another checkout (a
/// reused target folder) still finds the data beside the one it runs in.
pub fn shared_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("TATRA_SHARED") {
        let dir = PathBuf::from(d);
        return dir.is_dir().then_some(dir);
    }
    let starts = [std::env::current_dir().ok(), repo_root().canonicalize().ok()];
    starts.into_iter().flatten().find_map(|start| {
        start.ancestors().map(|a| a.join("shared")).find(|c| ["ud", "uner", "backbone"].iter().any(|k| c.join(k).is_dir()))
    })
}

/// A path inside the shared folder if it exists; otherwise prints why a test skips.
pub fn shared_path(rel: &str) -> Option<PathBuf> {
    let Some(dir) = shared_dir() else {
        eprintln!("SKIP: shared data folder not found (set TATRA_SHARED); needed: {rel}");
        return None;
    };
    let p = dir.join(rel);
    if p.exists() {
        Some(p)
    } else {
        eprintln!("SKIP: {} not found", p.display());
        None
    }
}

/// Every `*.conllu` file under `shared/ud`, sorted.
pub fn ud_files() -> Vec<PathBuf> {
    let Some(ud) = shared_path("ud") else { return Vec::new() };
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(ud) {
        for tb in entries.flatten() {
            if let Ok(files) = std::fs::read_dir(tb.path()) {
                for f in files.flatten() {
                    let p = f.path();
                    if p.extension().is_some_and(|e| e == "conllu") {
                        out.push(p);
                    }
                }
            }
        }
    }
    out.sort();
    out
}
