//! The adapter package: one zip file per language and stage (`sk_snk.posdep.zip`), with
//!
//! - `package.json` — [`Meta`]: stage, language, treebank, the encoder it was trained on
//!   (identity and SHA-256 of its weights), adapter configuration, training data and its
//!   licence, the command that trained it, dev and test scores, tatra version;
//! - `config.json` — the stage's own configuration (label vocabularies, sizes, …);
//! - `weights.safetensors` — adapters and heads (f16; f32 in checkpoints; 8-bit blocks
//!   where `package.json` says `"weights": "q8"`, 4-bit where it says `"q4"` or `"q4-N"`, N values a scale);
//! - any further stage files (e.g. `lemmas.json`);
//! - `checksums.json` — SHA-256 of every other member, checked on load.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use burn::module::Module;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    #[error("{path}: cannot read the adapter package: {message}")]
    Read { path: PathBuf, message: String },
    #[error("{path}: the package is damaged ({message}); download or train it again")]
    Corrupt { path: PathBuf, message: String },
    #[error("{path}: cannot write: {message}")]
    Write { path: PathBuf, message: String },
    #[error("{path}: this package was trained on encoder {expected}, but {found} is loaded; use the encoder it was trained with, or retrain")]
    EncoderMismatch { path: PathBuf, expected: String, found: String },
}

/// The error of loading, saving or training one stage's model (posdep, tokenize, NER):
/// its package, the encoder, or a named file's contents.
#[derive(Debug, thiserror::Error)]
pub enum StageError {
    #[error(transparent)]
    Package(#[from] PackageError),
    #[error(transparent)]
    Encoder(#[from] tatra_encoder::EncoderError),
    #[error("{0}")]
    Other(String),
}

impl From<String> for StageError {
    fn from(s: String) -> Self {
        StageError::Other(s)
    }
}

/// Where one further member of a seed ensemble came from (NER and posdep packages list
/// theirs in `config.json`; their weights are `member<N>.safetensors` in the package).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Member {
    /// Its weights file in the package.
    pub file: String,
    /// The command that trained it, and its dev scores alone.
    pub command: String,
    #[serde(default)]
    pub dev_scores: std::collections::BTreeMap<String, f64>,
}

/// The further members of a seed ensemble as it is built (NER and posdep alike): the
/// first model's own, then each joined model's network and its own members, flattened,
/// their weight files numbered `member<N>.safetensors` in order.
pub struct Members<N> {
    pub cfg: Vec<Member>,
    pub nets: Vec<N>,
    /// The first model's command, then those of every member joined since.
    pub commands: Vec<String>,
}

impl<N> Members<N> {
    /// Starts from the first model: its metadata (whose command already names any
    /// members of its own) and its own further members.
    pub fn new(first: &Meta, cfg: Vec<Member>, nets: Vec<N>) -> Self {
        Members { commands: vec![first.command.clone()], cfg, nets }
    }

    /// Joins one more model (its configuration checked by the caller): refused when it
    /// was trained on another encoder than `first`.
    pub fn join(&mut self, first: &Meta, meta: &Meta, net: N, cfg: Vec<Member>, nets: Vec<N>) -> Result<(), StageError> {
        if meta.encoder != first.encoder {
            return Err(StageError::Other(format!("the package trained with `{}` was trained on another encoder ({})", meta.command, meta.encoder)));
        }
        let own = Member { file: String::new(), command: meta.command.clone(), dev_scores: meta.dev_scores.clone() };
        for (net, mut c) in std::iter::once(net).chain(nets).zip(std::iter::once(own).chain(cfg)) {
            c.file = format!("member{}.safetensors", self.nets.len() + 1);
            self.commands.push(c.command.clone());
            self.cfg.push(c);
            self.nets.push(net);
        }
        Ok(())
    }

    /// The ensemble's command: `command`, then every member's.
    pub fn command(&self, command: &str) -> String {
        format!("{} # members: {}", command, self.commands.join(" ; "))
    }
}

/// What a package is and where it came from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    pub format: String,
    pub stage: String,
    pub language: String,
    pub treebank: String,
    pub encoder: String,
    pub adapters: crate::AdapterConfig,
    pub training_data: String,
    pub licence: String,
    pub command: String,
    pub tatra_version: String,
    #[serde(default)]
    pub training_seconds: f64,
    #[serde(default)]
    pub dev_scores: BTreeMap<String, f64>,
    #[serde(default)]
    pub test_scores: BTreeMap<String, f64>,
    /// How the shipped weights are stored: empty for f16, "q8" for 8-bit blocks
    /// ([`crate::params::Precision::Q8`]), "q4" for 4-bit ones ("q4-N" with N-value blocks)
    /// ([`crate::params::Precision::Q4`]); rewriting the package keeps it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub weights: String,
}

impl Default for crate::AdapterConfig {
    fn default() -> Self {
        crate::AdapterConfig { top_layers: 6, reduction: 8, depth: 0 }
    }
}

fn sha(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes a package atomically (temporary file, then rename).
pub fn write(path: &Path, meta: &Meta, files: &[(&str, Vec<u8>)]) -> Result<(), PackageError> {
    let werr = |m: String| PackageError::Write { path: path.to_path_buf(), message: m };
    let mut all: Vec<(String, Vec<u8>)> = vec![(
        "package.json".into(),
        serde_json::to_vec_pretty(meta).map_err(|e| werr(e.to_string()))?,
    )];
    all.extend(files.iter().map(|(n, b)| (n.to_string(), b.clone())));
    let sums: BTreeMap<String, String> = all.iter().map(|(n, b)| (n.clone(), sha(b))).collect();
    all.push(("checksums.json".into(), serde_json::to_vec_pretty(&sums).map_err(|e| werr(e.to_string()))?));

    let tmp = path.with_extension("zip.tmp");
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| werr(e.to_string()))?;
    }
    let file = std::fs::File::create(&tmp).map_err(|e| werr(e.to_string()))?;
    let mut zip = zip::ZipWriter::new(file);
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default());
    for (name, bytes) in &all {
        zip.start_file(name.as_str(), opts).map_err(|e| werr(e.to_string()))?;
        zip.write_all(bytes).map_err(|e| werr(e.to_string()))?;
    }
    zip.finish().map_err(|e| werr(e.to_string()))?;
    std::fs::rename(&tmp, path).map_err(|e| werr(e.to_string()))
}

/// Writes one stage's package: `config.json`, the network's weights (in `precision`: f16
/// or Q8 for packages, f32 for checkpoints), the stage's further `files` and any `extra` ones.
pub fn write_stage<M: Module>(
    path: &Path,
    meta: &Meta,
    config: &impl Serialize,
    net: &M,
    precision: crate::params::Precision,
    files: Vec<(&str, Vec<u8>)>,
    extra: &[(&str, Vec<u8>)],
) -> Result<(), StageError> {
    let other = |e: String| StageError::Other(format!("{}: {e}", path.display()));
    let weights = crate::params::to_safetensors(&crate::params::export(net), precision).map_err(other)?;
    let config = serde_json::to_vec_pretty(config).map_err(|e| other(e.to_string()))?;
    let mut all = vec![("config.json", config), ("weights.safetensors", weights)];
    all.extend(files);
    all.extend(extra.iter().map(|(n, b)| (*n, b.clone())));
    write(path, meta, &all)?;
    Ok(())
}

/// A package read into memory, checksums verified.
pub struct Package {
    pub path: PathBuf,
    pub meta: Meta,
    files: BTreeMap<String, Vec<u8>>,
}

impl Package {
    pub fn read(path: &Path) -> Result<Self, PackageError> {
        let rerr = |m: String| PackageError::Read { path: path.to_path_buf(), message: m };
        let corrupt = |m: String| PackageError::Corrupt { path: path.to_path_buf(), message: m };
        let file = std::fs::File::open(path).map_err(|e| rerr(e.to_string()))?;
        let mut zip = zip::ZipArchive::new(file).map_err(|e| corrupt(format!("not a zip file: {e}")))?;
        let mut files = BTreeMap::new();
        for i in 0..zip.len() {
            let mut f = zip.by_index(i).map_err(|e| corrupt(e.to_string()))?;
            let mut buf = Vec::new();
            f.read_to_end(&mut buf).map_err(|e| corrupt(e.to_string()))?;
            files.insert(f.name().to_string(), buf);
        }
        let sums: BTreeMap<String, String> = files
            .get("checksums.json")
            .ok_or_else(|| corrupt("checksums.json is missing".into()))
            .and_then(|b| serde_json::from_slice(b).map_err(|e| corrupt(format!("checksums.json: {e}"))))?;
        for (name, want) in &sums {
            let got = files.get(name).map(|b| sha(b)).ok_or_else(|| corrupt(format!("{name} is missing")))?;
            if &got != want {
                return Err(corrupt(format!("{name} does not match its checksum")));
            }
        }
        let meta: Meta = files
            .get("package.json")
            .ok_or_else(|| corrupt("package.json is missing".into()))
            .and_then(|b| serde_json::from_slice(b).map_err(|e| corrupt(format!("package.json: {e}"))))?;
        Ok(Package { path: path.to_path_buf(), meta, files })
    }

    pub fn file(&self, name: &str) -> Result<&[u8], PackageError> {
        self.files.get(name).map(Vec::as_slice).ok_or_else(|| PackageError::Corrupt {
            path: self.path.clone(),
            message: format!("{name} is missing"),
        })
    }

    pub fn json<T: serde::de::DeserializeOwned>(&self, name: &str) -> Result<T, PackageError> {
        serde_json::from_slice(self.file(name)?).map_err(|e| PackageError::Corrupt {
            path: self.path.clone(),
            message: format!("{name}: {e}"),
        })
    }

    /// Fills a freshly built network with the package's `weights.safetensors`.
    pub fn weights_into<M: Module>(&self, net: M) -> Result<M, StageError> {
        self.weights_file_into("weights.safetensors", net)
    }

    /// Fills a freshly built network with the weights file `name` of the package (a
    /// further ensemble member's).
    pub fn weights_file_into<M: Module>(&self, name: &str, net: M) -> Result<M, StageError> {
        let other = |e: String| StageError::Other(format!("{}: {name}: {e}", self.path.display()));
        let values = crate::params::from_safetensors(self.file(name)?).map_err(other)?;
        crate::params::import(net, &values).map_err(other)
    }

    /// Checks that the package was trained on this encoder.
    pub fn check_encoder(&self, identity: &str) -> Result<(), PackageError> {
        if self.meta.encoder != identity {
            return Err(PackageError::EncoderMismatch {
                path: self.path.clone(),
                expected: self.meta.encoder.clone(),
                found: identity.to_string(),
            });
        }
        Ok(())
    }
}

/// The checkpoint kept beside a package being trained: `OUT.ckpt`.
pub fn ckpt_path(out: &Path) -> PathBuf {
    let mut s = out.as_os_str().to_owned();
    s.push(".ckpt");
    PathBuf::from(s)
}

/// A file's name for package metadata (the path when it has none).
pub fn file_name(p: &Path) -> String {
    p.file_name().map_or_else(|| p.display().to_string(), |f| f.to_string_lossy().to_string())
}
