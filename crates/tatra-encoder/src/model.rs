//! The transformer in burn, with HuggingFace's module tree so that checkpoints map one
//! to one: `embeddings.{position,token_type}_embeddings`, `embeddings.LayerNorm`,
//! `encoder.layer.N.attention.self.{query,key,value}`, `…attention.output.{dense,LayerNorm}`,
//! `…intermediate.dense`, `…output.{dense,LayerNorm}`. Two spellings differ, as burn's
//! own PyTorch adapter has them: `self` is the Rust keyword, so the field is `self_`, and
//! LayerNorm's `weight`/`bias` are burn's `gamma`/`beta`. Linear weights are stored
//! `[in, out]` (HF stores `[out, in]`; loading transposes).
//!
//! The word-embedding table is not a burn parameter: it is frozen, large (250k rows for
//! XLM-R), and may stay 4-bit; rows are gathered on the CPU ([`WordTable`]).
#![allow(non_snake_case)]

use burn::module::{Module, Param};
use burn::nn::{LayerNorm, LayerNormConfig, Linear};
use burn::tensor::ops::AttentionModuleOptions;
use burn::tensor::{Device, Tensor, TensorData};

use crate::config::EncoderConfig;
use crate::error::Result;
use crate::quant;
use crate::weights::Weights;

#[derive(Module, Debug)]
pub struct SelfAttention {
    pub query: Linear,
    pub key: Linear,
    pub value: Linear,
    /// query, key and value as one `[h, 3h]` matrix (one matmul instead of three);
    /// derived at load, not a parameter of its own.
    #[module(skip)]
    pub fused: Option<FusedQkv>,
}

/// Concatenated query/key/value weights and biases.
#[derive(Clone, Debug)]
pub struct FusedQkv {
    pub weight: Tensor<2>,
    pub bias: Tensor<1>,
}

impl SelfAttention {
    /// Builds the fused projection from the three linears.
    pub fn fuse(&mut self) {
        let parts = [&self.query, &self.key, &self.value];
        let weight = Tensor::cat(parts.iter().map(|l| l.weight.val()).collect(), 1);
        let bias = parts.iter().map(|l| l.bias.as_ref().map(|b| b.val())).collect::<Option<Vec<_>>>();
        // Detached: a frozen constant, never a node of a training graph.
        self.fused = bias.map(|b| FusedQkv { weight: weight.detach(), bias: Tensor::cat(b, 0).detach() });
    }
}

#[derive(Module, Debug)]
pub struct DenseNorm {
    pub dense: Linear,
    pub LayerNorm: LayerNorm,
}

#[derive(Module, Debug)]
pub struct Attention {
    pub self_: SelfAttention,
    pub output: DenseNorm,
}

#[derive(Module, Debug)]
pub struct Intermediate {
    pub dense: Linear,
}

#[derive(Module, Debug)]
pub struct Layer {
    pub attention: Attention,
    pub intermediate: Intermediate,
    pub output: DenseNorm,
}

#[derive(Module, Debug)]
pub struct Embeddings {
    pub position_embeddings: Param<Tensor<2>>,
    pub token_type_embeddings: Param<Tensor<2>>,
    pub LayerNorm: LayerNorm,
}

#[derive(Module, Debug)]
pub struct Layers {
    pub layer: Vec<Layer>,
}

/// `BertModel` / `XLMRobertaModel` without the word table and the pooler.
#[derive(Module, Debug)]
pub struct Transformer {
    pub embeddings: Embeddings,
    pub encoder: Layers,
    pub num_heads: usize,
}

/// The word-embedding table, f32 or 4-bit.
pub enum WordTable {
    F32 { data: Vec<f32>, rows: usize, dim: usize },
    Q4 { data: Vec<u8>, rows: usize, dim: usize },
}

impl WordTable {
    pub fn rows(&self) -> usize {
        match self {
            WordTable::F32 { rows, .. } | WordTable::Q4 { rows, .. } => *rows,
        }
    }

    /// Writes row `id` into `out` (`dim` values). Ids past the table give zeros.
    pub fn row_into(&self, id: usize, out: &mut [f32]) {
        match self {
            WordTable::F32 { data, rows, dim } => {
                if id < *rows {
                    out.copy_from_slice(&data[id * dim..(id + 1) * dim]);
                } else {
                    out.fill(0.0);
                }
            }
            WordTable::Q4 { data, rows, dim } => {
                if id >= *rows {
                    out.fill(0.0);
                    return;
                }
                let row_bytes = dim / quant::BLOCK * quant::BLOCK_BYTES;
                let row = &data[id * row_bytes..(id + 1) * row_bytes];
                for (b, block) in row.chunks_exact(quant::BLOCK_BYTES).enumerate() {
                    quant::dequant_block(block, &mut out[b * quant::BLOCK..(b + 1) * quant::BLOCK]);
                }
            }
        }
    }
}

fn tensor1(v: Vec<f32>, device: &Device) -> Tensor<1> {
    let n = v.len();
    Tensor::from_data(TensorData::new(v, [n]), device)
}

fn tensor2(v: Vec<f32>, shape: [usize; 2], device: &Device) -> Tensor<2> {
    Tensor::from_data(TensorData::new(v, shape), device)
}

fn linear(w: &Weights, name: &str, d_in: usize, d_out: usize, device: &Device) -> Result<Linear> {
    let weight = w.f32(&format!("{name}.weight"), &[d_out, d_in])?;
    // HF [out, in] -> burn [in, out].
    let weight = tensor2(weight, [d_out, d_in], device).transpose();
    let bias = tensor1(w.f32(&format!("{name}.bias"), &[d_out])?, device);
    Ok(Linear { weight: Param::from_tensor(weight), bias: Some(Param::from_tensor(bias)) })
}

fn layer_norm(w: &Weights, name: &str, d: usize, eps: f64, device: &Device) -> Result<LayerNorm> {
    let mut ln = LayerNormConfig::new(d).with_epsilon(eps).init(device);
    ln.gamma = Param::from_tensor(tensor1(w.f32(&format!("{name}.weight"), &[d])?, device));
    ln.beta = Some(Param::from_tensor(tensor1(w.f32(&format!("{name}.bias"), &[d])?, device)));
    Ok(ln)
}

impl Transformer {
    /// Builds the transformer from HF-named weights.
    pub fn load(w: &Weights, cfg: &EncoderConfig, device: &Device) -> Result<(Self, WordTable)> {
        let (h, f) = (cfg.hidden_size, cfg.intermediate_size);
        let eps = cfg.layer_norm_eps;
        let pos = w.f32("embeddings.position_embeddings.weight", &[cfg.max_position_embeddings, h])?;
        let typ = w.f32("embeddings.token_type_embeddings.weight", &[cfg.type_vocab_size, h])?;
        let embeddings = Embeddings {
            position_embeddings: Param::from_tensor(tensor2(pos, [cfg.max_position_embeddings, h], device)),
            token_type_embeddings: Param::from_tensor(tensor2(typ, [cfg.type_vocab_size, h], device)),
            LayerNorm: layer_norm(w, "embeddings.LayerNorm", h, eps, device)?,
        };
        let mut layer = Vec::with_capacity(cfg.num_hidden_layers);
        for i in 0..cfg.num_hidden_layers {
            let p = format!("encoder.layer.{i}");
            let mut self_ = SelfAttention {
                query: linear(w, &format!("{p}.attention.self.query"), h, h, device)?,
                key: linear(w, &format!("{p}.attention.self.key"), h, h, device)?,
                value: linear(w, &format!("{p}.attention.self.value"), h, h, device)?,
                fused: None,
            };
            self_.fuse();
            layer.push(Layer {
                attention: Attention {
                    self_,
                    output: DenseNorm {
                        dense: linear(w, &format!("{p}.attention.output.dense"), h, h, device)?,
                        LayerNorm: layer_norm(w, &format!("{p}.attention.output.LayerNorm"), h, eps, device)?,
                    },
                },
                intermediate: Intermediate { dense: linear(w, &format!("{p}.intermediate.dense"), h, f, device)? },
                output: DenseNorm {
                    dense: linear(w, &format!("{p}.output.dense"), f, h, device)?,
                    LayerNorm: layer_norm(w, &format!("{p}.output.LayerNorm"), h, eps, device)?,
                },
            });
        }
        let name = "embeddings.word_embeddings.weight";
        let table = if w.is_q4(name) {
            let data = w.q4_bytes(name, cfg.vocab_size, h)?.to_vec();
            WordTable::Q4 { data, rows: cfg.vocab_size, dim: h }
        } else {
            WordTable::F32 { data: w.f32(name, &[cfg.vocab_size, h])?, rows: cfg.vocab_size, dim: h }
        };
        // The encoder is frozen: its parameters never take gradients.
        let model = Transformer { embeddings, encoder: Layers { layer }, num_heads: cfg.num_attention_heads }.no_grad();
        Ok((model, table))
    }

    /// Embedding layer: word rows `[b, l, h]` (gathered on the CPU) plus positions
    /// starting at `pos_offset`, plus token type 0, then LayerNorm.
    pub fn embed(&self, words: Tensor<3>, pos_offset: usize) -> Tensor<3> {
        let [_, l, h] = words.dims();
        let pos = self.embeddings.position_embeddings.val().slice([pos_offset..pos_offset + l, 0..h]);
        let typ = self.embeddings.token_type_embeddings.val().slice([0..1, 0..h]);
        let x = words + pos.unsqueeze::<3>() + typ.unsqueeze::<3>();
        self.embeddings.LayerNorm.forward(x)
    }

    /// Runs layers `from..to` on `x` `[b, l, h]`; `mask_bias` is `[b, 1, 1, l]` with 0 for
    /// real tokens and a large negative value for padding.
    pub fn layers(&self, mut x: Tensor<3>, mask_bias: &Tensor<4>, from: usize, to: usize) -> Tensor<3> {
        for layer in &self.encoder.layer[from..to] {
            x = layer.forward(x, mask_bias, self.num_heads);
        }
        x
    }
}

impl Layer {
    pub fn forward(&self, x: Tensor<3>, mask_bias: &Tensor<4>, heads: usize) -> Tensor<3> {
        self.forward_adapted(x, mask_bias, heads, |h| h)
    }

    /// The layer with `adapt` applied to the feed-forward output before its residual
    /// connection and LayerNorm (Pfeiffer adapter placement).
    pub fn forward_adapted(
        &self,
        x: Tensor<3>,
        mask_bias: &Tensor<4>,
        heads: usize,
        adapt: impl Fn(Tensor<3>) -> Tensor<3>,
    ) -> Tensor<3> {
        let [b, l, h] = x.dims();
        let hd = h / heads;
        let split = |t: Tensor<3>| t.reshape([b, l, heads, hd]).swap_dims(1, 2);
        let sa = &self.attention.self_;
        let scale = 1.0 / (hd as f64).sqrt();
        let (q, k, v) = match &sa.fused {
            Some(f) => {
                let qkv = burn::tensor::module::linear(x.clone(), f.weight.clone(), Some(f.bias.clone()));
                let mut parts = qkv.chunk(3, 2).into_iter();
                match (parts.next(), parts.next(), parts.next()) {
                    (Some(q), Some(k), Some(v)) => (q, k, v),
                    _ => unreachable!("chunk(3) gives three parts"),
                }
            }
            None => (sa.query.forward(x.clone()), sa.key.forward(x.clone()), sa.value.forward(x.clone())),
        };
        // softmax(QKᵀ·scale + mask) V through burn's attention op: one fused kernel on
        // the CPU backend, the same composition of differentiable ops under autodiff.
        let options = AttentionModuleOptions { scale: Some(scale), softcap: None, is_causal: false };
        let ctx = burn::tensor::module::attention(split(q), split(k), split(v), None, Some(mask_bias.clone()), options);
        let ctx = ctx.swap_dims(1, 2).reshape([b, l, h]);
        let ao = &self.attention.output;
        let x = ao.LayerNorm.forward(x + ao.dense.forward(ctx));
        let inner = crate::gelu::gelu(self.intermediate.dense.forward(x.clone()));
        self.output.LayerNorm.forward(x + adapt(self.output.dense.forward(inner)))
    }
}
