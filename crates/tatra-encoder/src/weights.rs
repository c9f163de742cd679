//! Reading tensors from a safetensors file by HuggingFace name, as f32, whatever their
//! stored type: f32, f16, bf16, or tatra's 4-bit `q4_0` (stored as `NAME.q4_0`, raw
//! Q4_0 blocks in a U8 tensor of shape `[rows, cols / 32 * 18]`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use safetensors::Dtype;

use crate::error::{EncoderError, Result, format_err, io_err};
use crate::quant;

/// Suffix of tensors stored as Q4_0 blocks.
pub const Q4_SUFFIX: &str = ".q4_0";

struct Entry {
    dtype: Dtype,
    shape: Vec<usize>,
    start: usize,
    end: usize,
}

/// A safetensors file held in memory, with its tensor directory.
pub struct Weights {
    path: PathBuf,
    bytes: Vec<u8>,
    entries: HashMap<String, Entry>,
    /// Prefix in front of the HF names in this file ("", "bert.", "roberta.", …).
    prefix: String,
}

impl Weights {
    pub fn open(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(io_err(path))?;
        let (n, meta) = safetensors::SafeTensors::read_metadata(&bytes)
            .map_err(|e| format_err(path, format!("not a safetensors file: {e}")))?;
        let base = 8 + n;
        let mut entries = HashMap::new();
        for (name, info) in meta.tensors() {
            let (s, e) = info.data_offsets;
            entries.insert(
                name.clone(),
                Entry { dtype: info.dtype, shape: info.shape.clone(), start: base + s, end: base + e },
            );
        }
        let prefix = ["", "bert.", "roberta.", "model.", "encoder.", "xlm_roberta."]
            .into_iter()
            .find(|p| {
                let n = format!("{p}embeddings.position_embeddings.weight");
                entries.contains_key(&n) || entries.contains_key(&format!("{n}{Q4_SUFFIX}"))
            })
            .unwrap_or("")
            .to_string();
        Ok(Weights { path: path.to_path_buf(), bytes, entries, prefix })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn entry(&self, name: &str) -> Option<(&str, &Entry)> {
        let full = format!("{}{name}", self.prefix);
        self.entries.get_key_value(&full).map(|(k, v)| (k.as_str(), v))
    }

    /// Whether the tensor is stored 4-bit.
    pub fn is_q4(&self, name: &str) -> bool {
        self.entry(&format!("{name}{Q4_SUFFIX}")).is_some()
    }

    /// The raw Q4_0 bytes of a `[rows, cols]` matrix.
    pub fn q4_bytes(&self, name: &str, rows: usize, cols: usize) -> Result<&[u8]> {
        let qname = format!("{name}{Q4_SUFFIX}");
        let (_, e) = self.entry(&qname).ok_or_else(|| self.missing(&qname))?;
        let expected = vec![rows, cols / quant::BLOCK * quant::BLOCK_BYTES];
        if e.dtype != Dtype::U8 || e.shape != expected {
            return Err(EncoderError::Shape { path: self.path.clone(), name: qname, found: e.shape.clone(), expected });
        }
        Ok(&self.bytes[e.start..e.end])
    }

    fn missing(&self, name: &str) -> EncoderError {
        let mut names: Vec<&String> = self.entries.keys().collect();
        names.sort();
        let hint = format!(
            "the file has {} tensors, e.g. {}",
            names.len(),
            names.iter().take(3).map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
        );
        EncoderError::MissingTensor { path: self.path.clone(), name: format!("{}{name}", self.prefix), hint }
    }

    /// A tensor as f32 in row-major order, checked against `shape`.
    pub fn f32(&self, name: &str, shape: &[usize]) -> Result<Vec<f32>> {
        if self.is_q4(name) {
            if let [rows, cols] = shape {
                let data = self.q4_bytes(name, *rows, *cols)?;
                return Ok(quant::dequant_matrix(data, *rows, *cols));
            }
        }
        let (full, e) = self.entry(name).ok_or_else(|| self.missing(name))?;
        if e.shape != shape {
            return Err(EncoderError::Shape {
                path: self.path.clone(),
                name: full.to_string(),
                found: e.shape.clone(),
                expected: shape.to_vec(),
            });
        }
        let raw = &self.bytes[e.start..e.end];
        Ok(match e.dtype {
            Dtype::F32 => raw.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect(),
            Dtype::F16 => raw.chunks_exact(2).map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32()).collect(),
            Dtype::BF16 => raw.chunks_exact(2).map(|b| half::bf16::from_le_bytes([b[0], b[1]]).to_f32()).collect(),
            other => {
                return Err(EncoderError::Dtype { path: self.path.clone(), name: full.to_string(), dtype: format!("{other:?}") });
            }
        })
    }
}
