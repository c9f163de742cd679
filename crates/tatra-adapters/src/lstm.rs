//! A word-level bidirectional LSTM over padded sequences (Stanza's and Dozat & Manning's
//! context layer between word vectors and task heads). The input projections of all steps
//! run as one matrix product; padding is masked so that a sequence gets the same outputs
//! alone or in a batch.

use burn::module::Module;
use burn::nn::{Dropout, Linear, LinearConfig};
use burn::tensor::activation::sigmoid;
use burn::tensor::{Device, Tensor, TensorData};

/// One direction of an LSTM: input and recurrent projections to the four gates.
#[derive(Module, Debug)]
pub struct LstmDir {
    pub input: Linear,
    pub hidden: Linear,
}

/// A bidirectional LSTM layer over padded word sequences.
#[derive(Module, Debug)]
pub struct BiLstm {
    pub fwd: LstmDir,
    pub bwd: LstmDir,
}

impl LstmDir {
    fn new(d_in: usize, h: usize, device: &Device) -> Self {
        LstmDir { input: LinearConfig::new(d_in, 4 * h).init(device), hidden: LinearConfig::new(h, 4 * h).with_bias(false).init(device) }
    }

    /// `x`: `[b, t, d]`; `mask`: `[b, t]` (1 for real positions, which come first). The
    /// backward direction starts each sentence from a zero state at its last word, so a
    /// sentence gets the same vectors alone or padded in a batch.
    fn run(&self, x: Tensor<3>, mask: &Tensor<2>, reverse: bool) -> Tensor<3> {
        let [b, t, _] = x.dims();
        let h4 = self.hidden.weight.val().dims()[1];
        let h = h4 / 4;
        let gates_in = self.input.forward(x); // [b, t, 4h], all steps at once
        let device = gates_in.device();
        let mut hs = Tensor::<2>::zeros([b, h], &device);
        let mut cs = Tensor::<2>::zeros([b, h], &device);
        let mut outs: Vec<Tensor<2>> = vec![hs.clone(); t];
        let order: Vec<usize> = if reverse { (0..t).rev().collect() } else { (0..t).collect() };
        for step in order {
            let g = gates_in.clone().slice([0..b, step..step + 1, 0..h4]).reshape([b, h4]) + self.hidden.forward(hs.clone());
            let mut parts = g.chunk(4, 1).into_iter();
            let (Some(i), Some(f), Some(o), Some(c)) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
                unreachable!("chunk(4) of a width divisible by 4 gives four parts")
            };
            cs = sigmoid(f) * cs + sigmoid(i) * c.tanh();
            hs = sigmoid(o) * cs.clone().tanh();
            if reverse {
                let m = mask.clone().slice([0..b, step..step + 1]);
                cs = cs * m.clone();
                hs = hs * m;
            }
            outs[step] = hs.clone();
        }
        Tensor::stack(outs, 1)
    }
}

impl BiLstm {
    pub fn new(d_in: usize, h: usize, device: &Device) -> Self {
        BiLstm { fwd: LstmDir::new(d_in, h, device), bwd: LstmDir::new(d_in, h, device) }
    }

    pub fn forward(&self, x: Tensor<3>, mask: &Tensor<2>) -> Tensor<3> {
        Tensor::cat(vec![self.fwd.run(x.clone(), mask, false), self.bwd.run(x, mask, true)], 2)
    }
}

/// `n` stacked BiLSTM layers of width `h` per direction over `d_in`-wide vectors (none
/// when `h` or `n` is 0).
pub fn stack(d_in: usize, h: usize, n: usize, device: &Device) -> Vec<BiLstm> {
    if h == 0 {
        return Vec::new();
    }
    (0..n).map(|k| BiLstm::new(if k == 0 { d_in } else { 2 * h }, h, device)).collect()
}

/// The width of [`contextualise`]'s output for `d_in`-wide input and `n` layers of
/// width `h` (`keep_input`: the input stays beside the last layer's output).
pub fn output_width(d_in: usize, h: usize, n: usize, keep_input: bool) -> usize {
    match (n, keep_input) {
        (0, _) => d_in,
        (_, true) => d_in + 2 * h,
        (_, false) => 2 * h,
    }
}

/// The stacked layers over `x` (`[b, t, d]`; `mask`: `[b, t]`, 1 for real positions):
/// the last layer's output, with `keep_input` appended to `x`; each layer's input goes
/// through `dropout`. `x` unchanged without layers.
pub fn contextualise(layers: &[BiLstm], dropout: &Dropout, x: Tensor<3>, mask: &Tensor<2>, keep_input: bool) -> Tensor<3> {
    if layers.is_empty() {
        return x;
    }
    let mut y = x.clone();
    for layer in layers {
        y = layer.forward(dropout.forward(y), mask);
    }
    if keep_input { Tensor::cat(vec![x, y], 2) } else { y }
}

/// `[b, t]`: 1 for the first `lens[i]` positions of row `i`, 0 after.
pub fn length_mask(lens: &[usize], t: usize, device: &Device) -> Tensor<2> {
    let mut m = vec![0f32; lens.len() * t];
    for (i, &n) in lens.iter().enumerate() {
        m[i * t..i * t + n.min(t)].fill(1.0);
    }
    Tensor::from_data(TensorData::new(m, [lens.len(), t]), device)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Distribution;

    #[test]
    fn padding_does_not_reach_real_positions() {
        let device = Device::flex();
        let layer = BiLstm::new(3, 4, &device);
        // Two sequences, lengths 5 and 2, padded to 5 with noise (not zeros) past the end.
        let x = Tensor::<3>::random([2, 5, 3], Distribution::Normal(0.0, 1.0), &device);
        let mask = length_mask(&[5, 2], 5, &device);
        let batched = crate::lstm::contextualise(&[layer.clone()], &burn::nn::DropoutConfig::new(0.0).init(), x.clone(), &mask, false);
        assert_eq!(batched.dims(), [2, 5, 8]);
        let short = x.slice([1..2, 0..2, 0..3]);
        let alone = layer.forward(short, &length_mask(&[2], 2, &device));
        let a: Vec<f32> = tatra_encoder::to_vec(alone);
        let b: Vec<f32> = tatra_encoder::to_vec(batched.slice([1..2, 0..2, 0..8]));
        assert_eq!(a.len(), b.len());
        for (p, q) in a.iter().zip(&b) {
            assert!((p - q).abs() < 1e-5, "{a:?} vs {b:?}");
        }
        assert_eq!(output_width(10, 4, 1, true), 18);
        assert_eq!(output_width(10, 4, 1, false), 8);
        assert_eq!(output_width(10, 4, 0, false), 10);
    }
}
