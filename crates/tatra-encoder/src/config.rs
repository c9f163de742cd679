//! The encoder's configuration, read from a HuggingFace `config.json`.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{EncoderError, Result, format_err, io_err};

/// How position ids are numbered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PositionScheme {
    /// BERT: positions 0, 1, 2, …
    Bert,
    /// RoBERTa / XLM-R: positions start after the padding index (pad + 1, pad + 2, …).
    Roberta,
}

/// The architecture hyper-parameters tatra needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EncoderConfig {
    pub model_type: String,
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub intermediate_size: usize,
    pub max_position_embeddings: usize,
    #[serde(default = "default_type_vocab")]
    pub type_vocab_size: usize,
    #[serde(default = "default_eps")]
    pub layer_norm_eps: f64,
    #[serde(default)]
    pub pad_token_id: u32,
    #[serde(default = "default_act")]
    pub hidden_act: String,
}

fn default_type_vocab() -> usize {
    2
}
fn default_eps() -> f64 {
    1e-12
}
fn default_act() -> String {
    "gelu".into()
}

impl EncoderConfig {
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(io_err(path))?;
        let cfg: EncoderConfig = serde_json::from_str(&text)
            .map_err(|e| format_err(path, format!("not a HuggingFace encoder config: {e}")))?;
        cfg.check(path)?;
        Ok(cfg)
    }

    pub fn check(&self, path: &Path) -> Result<()> {
        if !matches!(self.model_type.as_str(), "bert" | "xlm-roberta" | "roberta") {
            return Err(EncoderError::Architecture { path: path.into(), found: self.model_type.clone() });
        }
        if !matches!(self.hidden_act.as_str(), "gelu") {
            return Err(format_err(path, format!("hidden_act '{}' is not supported (tatra runs exact erf GELU)", self.hidden_act)));
        }
        if self.num_attention_heads == 0 || self.hidden_size % self.num_attention_heads != 0 {
            return Err(format_err(path, "hidden_size must be a multiple of num_attention_heads"));
        }
        Ok(())
    }

    pub fn positions(&self) -> PositionScheme {
        if self.model_type == "bert" { PositionScheme::Bert } else { PositionScheme::Roberta }
    }

    pub fn head_dim(&self) -> usize {
        self.hidden_size / self.num_attention_heads
    }

    /// The longest input (in subword pieces, special tokens included) the position table allows.
    pub fn max_len(&self) -> usize {
        match self.positions() {
            PositionScheme::Bert => self.max_position_embeddings,
            PositionScheme::Roberta => self.max_position_embeddings - self.pad_token_id as usize - 1,
        }
    }

    /// Multiply-adds of one forward pass over `tokens` pieces in sequences of `seq`.
    pub fn flops(&self, batch: usize, seq: usize) -> f64 {
        let (h, f, l) = (self.hidden_size as f64, self.intermediate_size as f64, self.num_hidden_layers as f64);
        let t = (batch * seq) as f64;
        // 4 h×h projections + 2 h×f FFN matrices, plus QKᵀ and AV (2·seq·h per token); 2 flops per MAC.
        2.0 * l * t * (4.0 * h * h + 2.0 * h * f + 2.0 * seq as f64 * h)
    }
}
