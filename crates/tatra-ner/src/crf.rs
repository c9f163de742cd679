//! A linear-chain CRF over the tag scores (`tatra train ner --crf`): learned scores for
//! each tag-to-tag transition and for each first tag, trained with the sentence-level
//! negative log-likelihood (forward algorithm), decoded by Viterbi over emission plus
//! transition scores. The IOB2 constraint (no `I-X` after anything but `B-X`/`I-X`) is
//! built in: forbidden transitions and first tags carry a fixed score of −10⁴, in training
//! (the partition function never counts an ill-formed sequence) as in decoding.

use burn::module::{Module, Param};
use burn::tensor::{Device, Tensor, TensorData};

use crate::spans::allowed;

/// Score added to forbidden transitions and first tags.
const FORBIDDEN: f32 = -1.0e4;

#[derive(Module, Debug)]
pub struct Crf {
    /// `[from, to]`.
    pub transitions: Param<Tensor<2>>,
    /// `[tag]`: the score of a sentence's first tag.
    pub start: Param<Tensor<1>>,
}

/// Fixed scores of the IOB2 constraint: transitions `[k·k]` (row = from) and first tags `[k]`.
pub fn constraint(tags: &[String]) -> (Vec<f32>, Vec<f32>) {
    let k = tags.len();
    let mut trans = vec![0f32; k * k];
    for p in 0..k {
        for j in 0..k {
            if !allowed(Some(&tags[p]), &tags[j]) {
                trans[p * k + j] = FORBIDDEN;
            }
        }
    }
    let start = tags.iter().map(|t| if allowed(None, t) { 0.0 } else { FORBIDDEN }).collect();
    (trans, start)
}

impl Crf {
    pub fn new(k: usize, device: &Device) -> Self {
        Crf { transitions: tatra_adapters::zeros_param([k, k], device), start: tatra_adapters::zeros_param([k], device) }
    }

    /// Learned plus constraint scores, for decoding: transitions `[k·k]` and first tags `[k]`.
    pub fn scores(&self, tags: &[String]) -> (Vec<f32>, Vec<f32>) {
        let (ct, cs) = constraint(tags);
        let t = tatra_encoder::to_vec(self.transitions.val());
        let s = tatra_encoder::to_vec(self.start.val());
        (t.iter().zip(&ct).map(|(a, b)| a + b).collect(), s.iter().zip(&cs).map(|(a, b)| a + b).collect())
    }

    /// Negative log-likelihood of the gold tag sequences, per token: `emissions` `[b, t, k]`,
    /// `gold[i]` the tag indices of sentence `i` (its length; positions after it are
    /// padding), `tags` the tag names.
    pub fn nll(&self, emissions: Tensor<3>, gold: &[Vec<usize>], tags: &[String]) -> Tensor<1> {
        let [b, t, k] = emissions.dims();
        let device = emissions.device();
        let (ct, cs) = constraint(tags);
        let trans = self.transitions.val() + Tensor::<2>::from_data(TensorData::new(ct, [k, k]), &device);
        let start = self.start.val() + Tensor::<1>::from_data(TensorData::new(cs, [k]), &device);
        // The gold path's score: emissions, transitions and first tags it uses, counted.
        let mut pick = vec![0f32; b * t * k];
        let mut moves = vec![0f32; k * k];
        let mut firsts = vec![0f32; k];
        let mut mask = vec![0f32; b * t];
        for (i, g) in gold.iter().enumerate() {
            for (j, &y) in g.iter().enumerate().take(t) {
                pick[(i * t + j) * k + y] = 1.0;
                mask[i * t + j] = 1.0;
                if j == 0 {
                    firsts[y] += 1.0;
                } else {
                    moves[g[j - 1] * k + y] += 1.0;
                }
            }
        }
        let n_tokens: f32 = mask.iter().sum::<f32>().max(1.0);
        let pick = Tensor::<3>::from_data(TensorData::new(pick, [b, t, k]), &device);
        let moves = Tensor::<2>::from_data(TensorData::new(moves, [k, k]), &device);
        let firsts = Tensor::<1>::from_data(TensorData::new(firsts, [k]), &device);
        let mask = Tensor::<2>::from_data(TensorData::new(mask, [b, t]), &device);
        let gold_score = (emissions.clone() * pick).sum() + (trans.clone() * moves).sum() + (start.clone() * firsts).sum();
        // The partition function: forward algorithm over positions, padding carries the
        // scores through unchanged.
        let emit = |j: usize| emissions.clone().slice([0..b, j..j + 1, 0..k]).reshape([b, k]);
        let mut alpha = emit(0) + start.unsqueeze::<2>();
        let trans3 = trans.unsqueeze::<3>(); // [1, k, k]
        for j in 1..t {
            let scores = alpha.clone().unsqueeze_dim::<3>(2) + trans3.clone(); // [b, from, to]
            let next = log_sum_exp(scores, 1).reshape([b, k]) + emit(j);
            let m = mask.clone().slice([0..b, j..j + 1]); // [b, 1]
            alpha = next * m.clone() + alpha * m.neg().add_scalar(1.0);
        }
        let log_z = log_sum_exp(alpha, 1).sum();
        (log_z - gold_score).div_scalar(n_tokens).reshape([1])
    }
}

/// `log Σ exp` over `dim`, kept as a dimension of size 1.
fn log_sum_exp<const D: usize>(x: Tensor<D>, dim: usize) -> Tensor<D> {
    let m = x.clone().max_dim(dim).detach();
    (x - m.clone()).exp().sum_dim(dim).log() + m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags() -> Vec<String> {
        ["O", "B-PER", "I-PER"].iter().map(|s| s.to_string()).collect()
    }

    /// The likelihood against brute force over every well-formed sequence.
    #[test]
    fn nll_matches_enumeration() {
        let device = Device::default();
        let tags = tags();
        let k = 3;
        let crf = Crf::new(k, &device);
        let tv: Vec<f32> = (0..9).map(|i| ((i * 7) % 5) as f32 * 0.3 - 0.5).collect();
        let crf = Crf { transitions: Param::from_tensor(Tensor::from_data(TensorData::new(tv.clone(), [k, k]), &device)), start: crf.start };
        // Two sentences, lengths 3 and 2 (the second padded).
        let e: Vec<f32> = (0..18).map(|i| ((i * 13) % 7) as f32 * 0.25 - 0.7).collect();
        let emissions = Tensor::<3>::from_data(TensorData::new(e.clone(), [2, 3, k]), &device);
        let gold = vec![vec![1, 2, 0], vec![0, 1]];
        let got = tatra_encoder::to_vec(crf.nll(emissions, &gold, &tags))[0];
        let (ct, cs) = constraint(&tags);
        let score = |s: usize, path: &[usize]| -> f32 {
            let mut v = cs[path[0]] + e[(s * 3) * k + path[0]];
            for j in 1..path.len() {
                v += tv[path[j - 1] * k + path[j]] + ct[path[j - 1] * k + path[j]] + e[(s * 3 + j) * k + path[j]];
            }
            v
        };
        let mut want = 0.0;
        for (s, g) in gold.iter().enumerate() {
            let n = g.len();
            let mut z = Vec::new();
            for code in 0..k.pow(n as u32) {
                let path: Vec<usize> = (0..n).map(|j| code / k.pow(j as u32) % k).collect();
                z.push(score(s, &path));
            }
            let m = z.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let log_z = m + z.iter().map(|v| (v - m).exp()).sum::<f32>().ln();
            want += log_z - score(s, g);
        }
        want /= 5.0;
        assert!((got - want).abs() < 1e-3, "{got} vs {want}");
    }
}
