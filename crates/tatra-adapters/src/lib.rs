//! tatra-adapters owns what every adapter-based stage shares:
//!
//! - [`Adapter`]: a Pfeiffer bottleneck (down-projection, GELU, up-projection, residual)
//!   applied to the feed-forward output of an encoder layer;
//! - [`AdaptedTop`]: the top K layers of the frozen encoder with one adapter each
//!   (AdapterDrop: the layers below run without adapters, once per sentence, and their
//!   output is shared by every stage and cached during training);
//! - [`params`]: export and import of a module's parameters by path (safetensors);
//! - [`package`]: the adapter package, one zip file per language and stage.

pub mod package;
pub mod params;

use burn::module::{Module, Param};
use burn::nn::{Initializer, Linear, LinearConfig};
use burn::tensor::activation::gelu;
use burn::tensor::{Device, Tensor};
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
        let n = encoder.num_layers();
        let k = cfg.top_layers.min(n);
        let layers: Vec<Layer> = encoder.model().encoder.layer[n - k..].to_vec();
        let h = encoder.hidden_size();
        let adapters = (0..k).map(|_| Adapter::new(h, (h / cfg.reduction.max(1)).max(1), device)).collect();
        AdaptedTop { layers, adapters, num_heads: encoder.config.num_attention_heads }
    }

    /// The first layer index that has an adapter.
    pub fn first_layer(encoder: &Encoder, cfg: &AdapterConfig) -> usize {
        encoder.num_layers() - cfg.top_layers.min(encoder.num_layers())
    }

    pub fn forward(&self, mut x: Tensor<3>, mask_bias: &Tensor<4>) -> Tensor<3> {
        for (layer, adapter) in self.layers.iter().zip(&self.adapters) {
            x = layer.forward_adapted(x, mask_bias, self.num_heads, |h| adapter.forward(h));
        }
        x
    }
}

/// A trainable matrix initialised to zeros.
pub fn zeros_param<const D: usize>(shape: [usize; D], device: &Device) -> Param<Tensor<D>> {
    Param::from_tensor(Tensor::zeros(shape, device))
}
