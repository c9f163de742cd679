//! tatra's encoder package: a folder with
//!
//! - `config.json` — the HuggingFace config (architecture hyper-parameters);
//! - `tokenizer.json` — the HuggingFace `tokenizers` file, unchanged;
//! - `model.safetensors` — the weights under HuggingFace names; matrices may be stored
//!   4-bit as `NAME.q4_0` (Q4_0 blocks), everything else f16/bf16/f32;
//! - `tatra-encoder.json` — the [`Manifest`]: name, source, licence, and the SHA-256 of
//!   the weights, which adapter packages record to check they run on the same encoder.
//!
//! A plain HuggingFace model folder (`config.json`, `model.safetensors`, `tokenizer.json`)
//! loads the same way; it simply has no manifest.

use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::EncoderConfig;
use crate::error::{Result, format_err, io_err};

pub const MANIFEST: &str = "tatra-encoder.json";
pub const WEIGHTS: &str = "model.safetensors";
pub const CONFIG: &str = "config.json";
pub const TOKENIZER: &str = "tokenizer.json";

/// What an encoder package is and where it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub name: String,
    pub source: String,
    pub licence: String,
    /// Text put before every input (e5 was trained with "query: " / "passage: ").
    #[serde(default)]
    pub input_prefix: String,
    /// SHA-256 of `model.safetensors` (filled in when the package is written).
    #[serde(default)]
    pub weights_sha256: String,
    #[serde(default)]
    pub tokenizer_sha256: String,
}

/// Hex SHA-256 of bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let d = Sha256::digest(bytes);
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes a file atomically (temporary name in the same folder, then rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp-write");
    std::fs::write(&tmp, bytes).map_err(io_err(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io_err(path))
}

pub(crate) fn write_package(
    out: &Path,
    config: &EncoderConfig,
    weights: &[u8],
    tokenizer: &[u8],
    manifest: &Manifest,
) -> Result<()> {
    let mut m = manifest.clone();
    m.weights_sha256 = sha256_hex(weights);
    m.tokenizer_sha256 = sha256_hex(tokenizer);
    let json = |v: &dyn erased::Json| -> Result<Vec<u8>> {
        let mut s = v.to_json().map_err(|e| format_err(out, e.to_string()))?;
        s.push('\n');
        Ok(s.into_bytes())
    };
    write_atomic(&out.join(WEIGHTS), weights)?;
    write_atomic(&out.join(TOKENIZER), tokenizer)?;
    write_atomic(&out.join(CONFIG), &json(config)?)?;
    write_atomic(&out.join(MANIFEST), &json(&m)?)?;
    Ok(())
}

mod erased {
    pub trait Json {
        fn to_json(&self) -> serde_json::Result<String>;
    }
    impl<T: serde::Serialize> Json for T {
        fn to_json(&self) -> serde_json::Result<String> {
            serde_json::to_string_pretty(self)
        }
    }
}

/// Reads a package's manifest, if it has one.
pub fn read_manifest(dir: &Path) -> Result<Option<Manifest>> {
    let p = dir.join(MANIFEST);
    if !p.exists() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&p).map_err(io_err(&p))?;
    serde_json::from_str(&text).map(Some).map_err(|e| format_err(&p, format!("bad manifest: {e}")))
}
