//! Encoder throughput: tokens/s and effective GFLOP/s over batch sizes and sequence
//! lengths, beside the GFLOP/s of one large f32 matmul on the same device (the
//! backend's practical peak).

use std::time::Instant;

use burn::tensor::{Device, Distribution, Tensor};
use serde::Serialize;

use crate::Encoder;

#[derive(Debug, Clone, Serialize)]
pub struct Run {
    pub batch: usize,
    pub seq: usize,
    pub seconds: f64,
    pub tokens_per_s: f64,
    pub gflops: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub device: String,
    pub matmul_gflops: f64,
    pub runs: Vec<Run>,
}

/// Forces a computation to finish by reading one value back.
fn sync<const D: usize>(t: Tensor<D>) {
    let n = t.shape().num_elements();
    let flat: Tensor<1> = t.reshape([n]);
    let _ = crate::to_vec(flat.slice([0..1]));
}

/// GFLOP/s of an `n × n × n` f32 matmul, best of `reps`.
pub fn matmul_gflops(device: &Device, n: usize, reps: usize) -> f64 {
    let a = Tensor::<2>::random([n, n], Distribution::Default, device);
    let b = Tensor::<2>::random([n, n], Distribution::Default, device);
    sync(a.clone().matmul(b.clone()));
    let mut best = f64::MAX;
    for _ in 0..reps {
        let t = Instant::now();
        sync(a.clone().matmul(b.clone()));
        best = best.min(t.elapsed().as_secs_f64());
    }
    2.0 * (n as f64).powi(3) / best / 1e9
}

/// Times the encoder's forward pass on `batch × seq` pieces: best of several runs
/// within about `budget_s` seconds (at least two).
pub fn time_forward(enc: &Encoder, batch: usize, seq: usize, budget_s: f64) -> Run {
    let mut state = 12345u64;
    let mut next = || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (state >> 33) as u32
    };
    let vocab = enc.tokenizer.vocab_size().max(10) as u32;
    let seqs: Vec<Vec<u32>> = (0..batch)
        .map(|_| {
            let mut s = vec![enc.tokenizer.cls_id];
            s.extend((0..seq.saturating_sub(2)).map(|_| 5 + next() % (vocab - 5)));
            s.push(enc.tokenizer.sep_id);
            s
        })
        .collect();
    sync(enc.forward(&seqs)); // warm-up
    let mut best = f64::MAX;
    let start = Instant::now();
    let mut n = 0;
    while n < 2 || (start.elapsed().as_secs_f64() < budget_s && n < 20) {
        let t = Instant::now();
        sync(enc.forward(&seqs));
        best = best.min(t.elapsed().as_secs_f64());
        n += 1;
    }
    let tokens = (batch * seq) as f64;
    Run { batch, seq, seconds: best, tokens_per_s: tokens / best, gflops: enc.config.flops(batch, seq) / best / 1e9 }
}

/// Largest absolute difference between the last hidden states computed on two devices
/// for the same batches (a padded batch of varied lengths, and single sequences).
pub fn compare_devices(a: &Encoder, b: &Encoder, lengths: &[usize]) -> f32 {
    let vocab = a.tokenizer.vocab_size().max(10) as u32;
    let lengths: Vec<usize> = lengths.iter().map(|&n| n.min(a.max_len())).collect();
    let seqs: Vec<Vec<u32>> = lengths
        .iter()
        .enumerate()
        .map(|(k, &n)| {
            let mut s = vec![a.tokenizer.cls_id];
            s.extend((0..n.saturating_sub(2)).map(|i| 5 + ((i * 7919 + k * 104729) as u32 % (vocab - 5))));
            s.push(a.tokenizer.sep_id);
            s
        })
        .collect();
    let mut worst = 0f32;
    let x = crate::to_vec(a.forward(&seqs));
    let y = crate::to_vec(b.forward(&seqs));
    let (h, l) = (a.hidden_size(), lengths.iter().copied().max().unwrap_or(0));
    for (k, &n) in lengths.iter().enumerate() {
        for i in (k * l * h)..((k * l + n) * h) {
            worst = worst.max((x[i] - y[i]).abs());
        }
    }
    worst
}
