//! The posdep network: adapters over the encoder's top layers, then heads on word
//! vectors — UPOS, XPOS, UFeats (whole feature string), lemma edit rule, and a biaffine
//! parser (Dozat & Manning) scoring every head for every word and a biaffine labeller
//! for the relation to the chosen head (optionally with a learned bias per head–dependent
//! distance). Word vectors are the first subword piece of each word, or the first and the
//! last side by side; the root is the sequence's first special token. Optionally each
//! word vector is extended by learned embeddings of the word's last 1..N characters
//! (lowercased, hashed into buckets: [`SuffixConfig`]), which the frozen encoder's pieces
//! do not expose for words it splits badly. Optionally a word-level BiLSTM
//! ([`tatra_adapters::lstm`]) runs over the word vectors before the heads.

use burn::module::{Module, Param};
use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig};
use burn::tensor::activation::gelu;
use burn::tensor::{Device, Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};
use tatra_adapters::lstm::BiLstm;
use tatra_adapters::{AdaptedTop, ScalarMix, zeros_param};

use crate::data::Vocabs;

/// Sizes of the parser's projections.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeadConfig {
    pub arc_dim: usize,
    pub label_dim: usize,
    /// Dropout on word vectors and projections while training.
    #[serde(default = "default_dropout")]
    pub dropout: f64,
    /// A learned arc-score bias per signed head–dependent distance, clipped to
    /// ±`distance` (0: none, as in older packages).
    #[serde(default)]
    pub distance: usize,
    /// Width of each direction of a word-level BiLSTM over the word vectors whose outputs
    /// feed the heads, appended to the word vectors or alone (`lstm_only`) (0: none, as in
    /// older packages).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub lstm: usize,
    /// Stacked BiLSTM layers (with `lstm` > 0).
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub lstm_layers: usize,
    /// The heads read the BiLSTM's output alone (as Stanza's do), not the word vectors
    /// with it appended: smaller heads, a smaller package.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub lstm_only: bool,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

fn one() -> usize {
    1
}

fn is_one(n: &usize) -> bool {
    *n == 1
}

fn default_dropout() -> f64 {
    0.33
}

impl Default for HeadConfig {
    fn default() -> Self {
        HeadConfig { arc_dim: 256, label_dim: 128, dropout: default_dropout(), distance: 0, lstm: 0, lstm_layers: 1, lstm_only: false }
    }
}

#[derive(Module, Debug)]
pub struct Heads {
    pub upos: Linear,
    pub xpos: Linear,
    pub feats: Linear,
    pub lemma: Linear,
    pub arc_dep: Linear,
    pub arc_head: Linear,
    pub arc_u: Param<Tensor<2>>,
    pub arc_bias: Linear,
    pub lab_dep: Linear,
    pub lab_head: Linear,
    pub lab_u: Param<Tensor<2>>,
    pub lab_w: Linear,
    pub dropout: Dropout,
    pub n_deprel: usize,
    /// Arc bias by distance bucket: 0 for the root, then `-D..=D` (see [`HeadConfig`]).
    pub dist: Option<Param<Tensor<1>>>,
    pub max_dist: usize,
}

/// What the heads compute for a batch of sentences of at most `w` words.
pub struct HeadOut {
    pub upos: Tensor<3>,
    pub xpos: Tensor<3>,
    pub feats: Tensor<3>,
    pub lemma: Tensor<3>,
    /// `[b, w, w + 1]`: score of each head (0 = root) for each word.
    pub arcs: Tensor<3>,
    pub dep_l: Tensor<3>,
    pub head_l: Tensor<3>,
}

impl Heads {
    pub fn new(h: usize, v: &Vocabs, c: &HeadConfig, device: &Device) -> Self {
        let lin = |i: usize, o: usize| LinearConfig::new(i, o).init(device);
        Heads {
            upos: lin(h, v.upos.len()),
            xpos: lin(h, v.xpos.len()),
            feats: lin(h, v.feats.len()),
            lemma: lin(h, v.lemma.len()),
            arc_dep: lin(h, c.arc_dim),
            arc_head: lin(h, c.arc_dim),
            arc_u: zeros_param([c.arc_dim, c.arc_dim], device),
            arc_bias: lin(c.arc_dim, 1),
            lab_dep: lin(h, c.label_dim),
            lab_head: lin(h, c.label_dim),
            lab_u: zeros_param([c.label_dim, v.deprel.len() * c.label_dim], device),
            lab_w: lin(2 * c.label_dim, v.deprel.len()),
            dropout: DropoutConfig::new(c.dropout).init(),
            n_deprel: v.deprel.len(),
            dist: (c.distance > 0).then(|| zeros_param([2 * c.distance + 2], device)),
            max_dist: c.distance,
        }
    }

    /// `words`: `[b, w + 1, h]`, position 0 the root vector.
    pub fn forward(&self, words: Tensor<3>, head_mask_bias: Tensor<3>) -> HeadOut {
        let [b, w1, h] = words.dims();
        let words = self.dropout.forward(words);
        let deps = words.clone().slice([0..b, 1..w1, 0..h]);
        let arc_d = self.dropout.forward(gelu(self.arc_dep.forward(deps.clone())));
        let arc_h = self.dropout.forward(gelu(self.arc_head.forward(words.clone())));
        let bil = arc_d.matmul(self.arc_u.val().unsqueeze::<3>()).matmul(arc_h.clone().swap_dims(1, 2));
        let hb = self.arc_bias.forward(arc_h).swap_dims(1, 2); // [b, 1, w+1]
        let mut arcs = bil + hb + head_mask_bias;
        if let Some(dist) = &self.dist {
            let d = self.max_dist as i64;
            let w = w1 - 1;
            let mut idx = Vec::with_capacity(w * w1);
            for dep in 1..=w as i64 {
                for head in 0..w1 as i64 {
                    idx.push(if head == 0 { 0 } else { (head - dep).clamp(-d, d) + d + 1 });
                }
            }
            let device = dist.val().device();
            let idx = Tensor::<1, Int>::from_data(TensorData::new(idx, [w * w1]), &device);
            arcs = arcs + dist.val().select(0, idx).reshape([1, w, w1]);
        }
        HeadOut {
            upos: self.upos.forward(deps.clone()),
            xpos: self.xpos.forward(deps.clone()),
            feats: self.feats.forward(deps.clone()),
            lemma: self.lemma.forward(deps.clone()),
            arcs,
            dep_l: self.dropout.forward(gelu(self.lab_dep.forward(deps))),
            head_l: self.dropout.forward(gelu(self.lab_head.forward(words))),
        }
    }

    /// Relation scores `[b, w, n_deprel]` given each word's head (`[b, w]`, 0 = root).
    pub fn labels(&self, out: &HeadOut, heads: Tensor<2, Int>) -> Tensor<3> {
        let [b, w, r] = out.dep_l.dims();
        let idx = heads.unsqueeze_dim::<3>(2).repeat_dim(2, r);
        let hsel = out.head_l.clone().gather(1, idx); // [b, w, r]
        let n = self.n_deprel;
        let bil = out
            .dep_l
            .clone()
            .matmul(self.lab_u.val().unsqueeze::<3>())
            .reshape([b, w, n, r])
            .mul(hsel.clone().unsqueeze_dim::<4>(2))
            .sum_dim(3)
            .reshape([b, w, n]);
        bil + self.lab_w.forward(Tensor::cat(vec![out.dep_l.clone(), hsel], 2))
    }
}

/// Embeddings of each word's last 1..`max_len` characters, appended to its vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuffixConfig {
    pub max_len: usize,
    /// Rows per suffix length (row 0: the word is shorter than that length).
    pub buckets: usize,
    /// Width of each length's embedding.
    pub dim: usize,
}

impl SuffixConfig {
    /// Width added to a word vector.
    pub fn width(&self) -> usize {
        self.max_len * self.dim
    }

    /// The embedding rows of a word's suffixes, one per length; `None` (the root): row 0
    /// of each length.
    pub fn ids(&self, form: Option<&str>) -> Vec<i64> {
        let chars: Vec<char> = form.map(|f| f.chars().flat_map(char::to_lowercase).collect()).unwrap_or_default();
        (1..=self.max_len)
            .map(|len| {
                let row = if chars.len() < len {
                    0
                } else {
                    // FNV-1a over the suffix's UTF-8 bytes: stable across builds and platforms.
                    let suffix: String = chars[chars.len() - len..].iter().collect();
                    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
                    for b in suffix.bytes() {
                        hash = (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
                    }
                    1 + (hash % (self.buckets.max(2) as u64 - 1)) as usize
                };
                ((len - 1) * self.buckets + row) as i64
            })
            .collect()
    }
}

/// The whole trainable network of a posdep package.
#[derive(Module, Debug)]
pub struct PosdepNet {
    pub top: AdaptedTop,
    pub heads: Heads,
    /// Scalar mix of the adapted layers' outputs (absent in older packages: last layer).
    pub mix: Option<ScalarMix>,
    /// Suffix embeddings `[max_len * buckets, dim]` (packages without: none).
    pub suffix: Option<Param<Tensor<2>>>,
    /// Word-level BiLSTM layers over the word vectors (packages without: none).
    pub lstm: Vec<BiLstm>,
    /// The heads read the BiLSTM's output alone (see [`HeadConfig::lstm_only`]).
    pub lstm_only: bool,
}

impl PosdepNet {
    /// Word vectors `[b, w + 1, width]` extended by the suffix embeddings of `ids`
    /// (`[b, (w + 1) * max_len]`, see [`SuffixConfig::ids`]).
    pub fn with_suffixes(&self, words: Tensor<3>, ids: Option<Tensor<2, Int>>) -> Tensor<3> {
        match (&self.suffix, ids) {
            (Some(table), Some(ids)) => {
                let [b, w1, _] = words.dims();
                let [_, n] = ids.dims();
                let dim = table.val().dims()[1];
                let e = table.val().select(0, ids.reshape([b * n])).reshape([b, w1, (n / w1) * dim]);
                Tensor::cat(vec![words, e], 2)
            }
            _ => words,
        }
    }

    /// Word vectors with the word-level BiLSTM's outputs appended, or those outputs alone
    /// (`lstm_only`) (`mask`: `[b, w + 1]`, 1 for the root and each word); unchanged
    /// without a BiLSTM.
    pub fn contextualise(&self, words: Tensor<3>, mask: &Tensor<2>) -> Tensor<3> {
        tatra_adapters::lstm::contextualise(&self.lstm, &self.heads.dropout, words, mask, !self.lstm_only)
    }

    /// Piece vectors for the heads from lower-layer states.
    pub fn encode(&self, x: Tensor<3>, bias: &Tensor<4>) -> Tensor<3> {
        match &self.mix {
            Some(m) => m.forward(self.top.forward_all(x, bias)),
            None => self.top.forward(x, bias),
        }
    }
}

pub use tatra_adapters::cross_entropy;

#[cfg(test)]
mod tests {
    use super::SuffixConfig;

    #[test]
    fn suffix_rows() {
        let c = SuffixConfig { max_len: 4, buckets: 4096, dim: 32 };
        let ids = c.ids(Some("Mestách"));
        assert_eq!(ids.len(), 4);
        // One row per length, each inside its own block, never the "too short" row.
        for (k, &id) in ids.iter().enumerate() {
            let (lo, hi) = ((k * 4096) as i64, ((k + 1) * 4096) as i64);
            assert!(id > lo && id < hi, "{ids:?}");
        }
        // Case does not matter; a word shares its suffix rows with other words that end alike.
        assert_eq!(ids, c.ids(Some("MESTÁCH")));
        assert_eq!(ids[..3], c.ids(Some("horách"))[..3]);
        assert_ne!(ids[0], c.ids(Some("mesta"))[0]);
        // Shorter words and the root read the "too short" rows (0 of each block).
        assert_eq!(c.ids(Some("je")), vec![c.ids(Some("je"))[0], c.ids(Some("je"))[1], 2 * 4096, 3 * 4096]);
        assert_eq!(c.ids(None), vec![0, 4096, 2 * 4096, 3 * 4096]);
    }
}
