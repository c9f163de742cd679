//! tatra-encoder owns the shared, frozen transformer encoder that every tatra stage
//! reads: the BERT / XLM-RoBERTa architecture in burn 0.22 ([`model`]), configuration
//! from a HuggingFace `config.json` ([`config`]), weights from safetensors in f32, f16,
//! bf16 or tatra's 4-bit Q4_0 ([`weights`]), subword tokenization from `tokenizer.json`
//! ([`tokenizer`]), the encoder package format ([`package`]), the importer of the
//! embedded multilingual-e5-small image ([`e5s1`]), and device selection ([`device`]).
//!
//! [`Encoder`] ties them together: load a package or HF model folder, turn id sequences
//! into hidden states, run any range of layers (so stages can share the lower layers),
//! and pool subword vectors into word vectors.

pub mod bench;
pub mod config;
pub mod device;
pub mod e5s1;
pub mod error;
pub mod gelu;
pub mod model;
pub mod package;
pub mod quant;
pub mod tokenizer;
pub mod weights;
pub mod words;

use std::path::Path;

use burn::tensor::{Device, Tensor, TensorData};

pub use config::EncoderConfig;
pub use error::{EncoderError, Result};
pub use package::Manifest;
pub use tokenizer::Tokenizer;

pub use model::Transformer;
use model::WordTable;

/// A large negative attention bias for padding positions.
const MASK_BIAS: f32 = -1.0e9;

/// A loaded encoder: configuration, tokenizer, weights on a device.
pub struct Encoder {
    pub config: EncoderConfig,
    pub manifest: Option<Manifest>,
    pub tokenizer: Tokenizer,
    model: Transformer,
    table: WordTable,
    device: Device,
}

/// A padded batch after the embedding layer, ready for the transformer layers.
pub struct Batch {
    /// `[b, l, h]` hidden states.
    pub hidden: Tensor<3>,
    /// `[b, 1, 1, l]` attention bias (0 for tokens, large negative for padding).
    pub mask_bias: Tensor<4>,
    /// Real length of each sequence.
    pub lengths: Vec<usize>,
}

impl Encoder {
    /// Loads a tatra encoder package or a HuggingFace model folder (`config.json`,
    /// `model.safetensors`, `tokenizer.json`).
    pub fn load(dir: &Path, device: &Device) -> Result<Self> {
        if !dir.is_dir() {
            return Err(error::format_err(
                dir,
                "encoder folder not found; it needs config.json, model.safetensors and tokenizer.json",
            ));
        }
        let config = EncoderConfig::from_file(&dir.join(package::CONFIG))?;
        let manifest = package::read_manifest(dir)?;
        let tokenizer = Tokenizer::from_file(&dir.join(package::TOKENIZER))?;
        let weights = weights::Weights::open(&dir.join(package::WEIGHTS))?;
        let (model, table) = Transformer::load(&weights, &config, device)?;
        Ok(Encoder { config, manifest, tokenizer, model, table, device: device.clone() })
    }

    /// The transformer (its layers can be reused, e.g. with adapters, by the stages).
    pub fn model(&self) -> &Transformer {
        &self.model
    }

    /// Identity of the weights (SHA-256 from the package manifest, or the model folder's
    /// name when it has no manifest); adapter packages record it.
    pub fn identity(&self) -> String {
        match &self.manifest {
            Some(m) => format!("{}@{}", m.name, m.weights_sha256),
            None => format!("hf:{}", self.config.model_type),
        }
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    pub fn hidden_size(&self) -> usize {
        self.config.hidden_size
    }

    pub fn num_layers(&self) -> usize {
        self.config.num_hidden_layers
    }

    /// The longest sequence (special tokens included) one window can hold.
    pub fn max_len(&self) -> usize {
        self.config.max_len()
    }

    /// Pads id sequences (each already with its special tokens) into a batch and runs the
    /// embedding layer. Sequences longer than [`Encoder::max_len`] are cut there (use
    /// [`Encoder::layout`] windows for long input).
    pub fn embed(&self, seqs: &[Vec<u32>]) -> Batch {
        let h = self.hidden_size();
        let b = seqs.len();
        let max = self.max_len();
        let cut: Vec<&[u32]> = seqs.iter().map(|s| &s[..s.len().min(max)]).collect();
        let seqs = &cut;
        let l = seqs.iter().map(|s| s.len()).max().unwrap_or(0).max(1);
        let mut words = vec![0f32; b * l * h];
        let mut bias = vec![MASK_BIAS; b * l];
        let pad = self.tokenizer.pad_id as usize;
        for (i, s) in seqs.iter().enumerate() {
            for j in 0..l {
                let id = s.get(j).map_or(pad, |&x| x as usize);
                let at = (i * l + j) * h;
                self.table.row_into(id, &mut words[at..at + h]);
            }
            bias[i * l..i * l + s.len()].fill(0.0);
        }
        let words = Tensor::<3>::from_data(TensorData::new(words, [b, l, h]), &self.device);
        let mask_bias = Tensor::<4>::from_data(TensorData::new(bias, [b, 1, 1, l]), &self.device);
        let pos_offset = match self.config.positions() {
            config::PositionScheme::Bert => 0,
            config::PositionScheme::Roberta => self.config.pad_token_id as usize + 1,
        };
        Batch { hidden: self.model.embed(words, pos_offset), mask_bias, lengths: seqs.iter().map(|s| s.len()).collect() }
    }

    /// Runs transformer layers `from..to` on a batch's hidden states.
    pub fn run_layers(&self, hidden: Tensor<3>, mask_bias: &Tensor<4>, from: usize, to: usize) -> Tensor<3> {
        self.model.layers(hidden, mask_bias, from, to.min(self.num_layers()))
    }

    /// Last-layer hidden states `[b, l, h]` of id sequences.
    pub fn forward(&self, seqs: &[Vec<u32>]) -> Tensor<3> {
        let batch = self.embed(seqs);
        self.run_layers(batch.hidden, &batch.mask_bias, 0, self.num_layers())
    }

    /// Last-layer hidden states of one sequence, `len × h` row-major.
    pub fn forward_one(&self, ids: &[u32]) -> Vec<f32> {
        to_vec(self.forward(&[ids.to_vec()]))
    }

    /// Ids of a text as the model sees it (with the manifest's input prefix and special tokens).
    pub fn encode_text(&self, text: &str) -> Result<Vec<u32>> {
        let prefix = self.manifest.as_ref().map_or("", |m| m.input_prefix.as_str());
        Ok(self.tokenizer.encode(&format!("{prefix}{text}"), true)?.ids)
    }
}

/// A tensor's values as a flat f32 vector.
pub fn to_vec<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    let data = t.into_data();
    match data.as_slice::<f32>() {
        Ok(s) => s.to_vec(),
        Err(_) => data.convert::<f32>().as_slice::<f32>().map(<[f32]>::to_vec).unwrap_or_default(),
    }
}
