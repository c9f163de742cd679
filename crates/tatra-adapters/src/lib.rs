//! tatra-adapters owns what every adapter-based stage shares:
//!
//! - [`Adapter`]: a Pfeiffer bottleneck (down-projection, GELU, up-projection, residual)
//!   applied to the feed-forward output of an encoder layer;
//! - [`AdaptedTop`]: the top K layers of the frozen encoder (or of its first `depth`
//!   layers: a stage may stop below the top) with one adapter each
//!   (AdapterDrop: the layers below run without adapters, once per sentence, and their
//!   output is shared by every stage and cached during training);
//! - [`lstm`]: a word-level BiLSTM that stages may put between word vectors and heads;
//! - [`params`]: export and import of a module's parameters by path (safetensors);
//! - [`package`]: the adapter package, one zip file per language and stage;
//! - [`train`]: the training loop every stage shares (schedule, checkpoints, resume);
//! - `testkit` (feature `testkit`): set-up shared by the stages' training tests.

pub mod lstm;
pub mod package;
pub mod params;
pub mod train;
#[cfg(feature = "testkit")]
pub mod testkit;

use burn::module::{Module, Param};
use burn::nn::{Initializer, Linear, LinearConfig};
use burn::tensor::activation::{gelu, log_softmax};
use burn::tensor::{Device, Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};
use tatra_encoder::model::Layer;
use tatra_encoder::Encoder;

/// Where adapters go and how big they are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdapterConfig {
    /// Adapters live in the top `top_layers` encoder layers.
    pub top_layers: usize,
    /// Bottleneck size = hidden / reduction.
    pub reduction: usize,
    /// Encoder layers used (the stage reads layer `depth`'s output and never runs the
    /// layers above it); 0: all of them.
    #[serde(default)]
    pub depth: usize,
}

impl AdapterConfig {
    /// Encoder layers this stage runs: `depth`, or all of them.
    pub fn used_layers(&self, encoder_layers: usize) -> usize {
        if self.depth == 0 { encoder_layers } else { self.depth.min(encoder_layers) }
    }
}

#[derive(Module, Debug)]
pub struct Adapter {
    pub down: Linear,
    pub up: Linear,
}

impl Adapter {
    /// Starts close to the identity (small up-projection), so training starts from the
    /// encoder's own representations.
    pub fn new(hidden: usize, bottleneck: usize, device: &Device) -> Self {
        let down = LinearConfig::new(hidden, bottleneck).init(device);
        let up = LinearConfig::new(bottleneck, hidden)
            .with_initializer(Initializer::Normal { mean: 0.0, std: 1e-3 })
            .init(device);
        Adapter { down, up }
    }

    pub fn forward(&self, h: Tensor<3>) -> Tensor<3> {
        h.clone() + self.up.forward(gelu(self.down.forward(h)))
    }
}

/// The top layers of the encoder (frozen) with their adapters (trained).
#[derive(Module, Debug)]
pub struct AdaptedTop {
    pub layers: Vec<Layer>,
    pub adapters: Vec<Adapter>,
    pub num_heads: usize,
}

impl AdaptedTop {
    /// Takes the encoder's top `cfg.top_layers` layers and adds fresh adapters.
    pub fn new(encoder: &Encoder, cfg: &AdapterConfig, device: &Device) -> Self {
        let n = cfg.used_layers(encoder.num_layers());
        let k = cfg.top_layers.min(n);
        let layers: Vec<Layer> = encoder.model().encoder.layer[n - k..n].to_vec();
        let h = encoder.hidden_size();
        let adapters = (0..k).map(|_| Adapter::new(h, (h / cfg.reduction.max(1)).max(1), device)).collect();
        AdaptedTop { layers, adapters, num_heads: encoder.config.num_attention_heads }
    }

    /// The first layer index that has an adapter.
    pub fn first_layer(encoder: &Encoder, cfg: &AdapterConfig) -> usize {
        let n = cfg.used_layers(encoder.num_layers());
        n - cfg.top_layers.min(n)
    }

    pub fn forward(&self, mut x: Tensor<3>, mask_bias: &Tensor<4>) -> Tensor<3> {
        for (layer, adapter) in self.layers.iter().zip(&self.adapters) {
            x = layer.forward_adapted(x, mask_bias, self.num_heads, |h| adapter.forward(h));
        }
        x
    }

    /// The input and the output of every adapted layer (K + 1 tensors).
    pub fn forward_all(&self, mut x: Tensor<3>, mask_bias: &Tensor<4>) -> Vec<Tensor<3>> {
        let mut out = vec![x.clone()];
        for (layer, adapter) in self.layers.iter().zip(&self.adapters) {
            x = layer.forward_adapted(x, mask_bias, self.num_heads, |h| adapter.forward(h));
            out.push(x.clone());
        }
        out
    }
}

/// A learned weighted sum of layer outputs (ELMo's scalar mix): `gamma · Σ softmax(w)ᵢ hᵢ`.
/// Middle layers carry more syntax than the last one, which a sentence-embedding model
/// such as e5 tunes for its own objective.
#[derive(Module, Debug)]
pub struct ScalarMix {
    pub weights: Param<Tensor<1>>,
    pub gamma: Param<Tensor<1>>,
}

impl ScalarMix {
    pub fn new(n: usize, device: &Device) -> Self {
        ScalarMix { weights: zeros_param([n], device), gamma: Param::from_tensor(Tensor::ones([1], device)) }
    }

    pub fn forward(&self, layers: Vec<Tensor<3>>) -> Tensor<3> {
        let n = layers.len();
        let w = burn::tensor::activation::softmax(self.weights.val(), 0);
        let stacked = Tensor::stack::<4>(layers, 0); // [n, b, l, h]
        let w = w.reshape([n, 1, 1, 1]);
        let mixed: Tensor<3> = (stacked * w).sum_dim(0).squeeze_dim(0);
        mixed * self.gamma.val().reshape([1, 1, 1])
    }
}

/// A trainable matrix initialised to zeros.
pub fn zeros_param<const D: usize>(shape: [usize; D], device: &Device) -> Param<Tensor<D>> {
    Param::from_tensor(Tensor::zeros(shape, device))
}

/// A padded batch tensor `[b, l, h]` and its attention bias from per-sequence states.
pub fn pad_batch(states: &[&[f32]], h: usize, device: &Device) -> (Tensor<3>, Tensor<4>, usize) {
    let b = states.len();
    let l = states.iter().map(|s| s.len() / h).max().unwrap_or(1).max(1);
    let mut x = vec![0f32; b * l * h];
    let mut bias = vec![-1.0e9f32; b * l];
    for (i, s) in states.iter().enumerate() {
        x[i * l * h..i * l * h + s.len()].copy_from_slice(s);
        bias[i * l..i * l + s.len() / h].fill(0.0);
    }
    (
        Tensor::from_data(TensorData::new(x, [b, l, h]), device),
        Tensor::from_data(TensorData::new(bias, [b, 1, 1, l]), device),
        l,
    )
}

/// Runs `net` over every window of every text (`lower[t][w]`: the lower-layer states of
/// window w of text t, `h` wide), windows batched by length (at most `max_tokens`
/// positions a batch), and returns its output for each window's real positions (the
/// padding cut off): `out[t][w]`, as wide as `net`'s last dimension. `net` takes a
/// padded batch and its attention bias, as [`pad_batch`] makes them. Inference only.
pub fn over_windows(
    lower: &[Vec<Vec<f32>>],
    h: usize,
    max_tokens: usize,
    device: &Device,
    mut net: impl FnMut(Tensor<3>, &Tensor<4>) -> Tensor<3>,
) -> Vec<Vec<Vec<f32>>> {
    let seqs: Vec<(usize, usize)> = lower.iter().enumerate().flat_map(|(t, l)| (0..l.len()).map(move |w| (t, w))).collect();
    let lens: Vec<Vec<u32>> = seqs.iter().map(|&(t, w)| vec![0; lower[t][w].len() / h]).collect();
    let mut out: Vec<Vec<Vec<f32>>> = lower.iter().map(|l| vec![Vec::new(); l.len()]).collect();
    for batch in tatra_encoder::words::length_batches(&lens, max_tokens) {
        let states: Vec<&[f32]> = batch.iter().map(|&i| lower[seqs[i].0][seqs[i].1].as_slice()).collect();
        let (x, bias, l) = pad_batch(&states, h, device);
        let y = net(x, &bias);
        let width = y.dims()[2];
        let y = tatra_encoder::to_vec(y);
        for (b, &i) in batch.iter().enumerate() {
            let n = states[b].len() / h;
            out[seqs[i].0][seqs[i].1] = y[b * l * width..(b * l + n) * width].to_vec();
        }
    }
    out
}

/// Runs the frozen encoder's layers `from..to` (no adapters) over lower-layer states
/// (`lower[t][w]`, as [`over_windows`] takes them): a stage whose adapters start higher
/// continues from states another stage's lower layers computed, instead of running the
/// shared layers again. `from == to` returns the states unchanged.
pub fn extend_lower(encoder: &Encoder, lower: &[Vec<Vec<f32>>], from: usize, to: usize) -> Vec<Vec<Vec<f32>>> {
    if from >= to {
        return lower.to_vec();
    }
    over_windows(lower, encoder.hidden_size(), 4096, encoder.device(), |x, bias| encoder.run_layers(x, bias, from, to))
}

/// Masked mean cross-entropy: `logits [b, w, c]`, `gold [b, w]`, `mask [b, w]` (1/0).
pub fn cross_entropy(logits: Tensor<3>, gold: Tensor<2, Int>, mask: Tensor<2>) -> Tensor<1> {
    let [b, w, _] = logits.dims();
    let lp = log_softmax(logits, 2);
    let picked = lp.gather(2, gold.unsqueeze_dim::<3>(2)).reshape([b, w]);
    let n = mask.clone().sum().clamp_min(1.0);
    picked.mul(mask).sum().neg().div(n)
}
