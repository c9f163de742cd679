//! The embedded multilingual-e5-small package against the independent float32 reference
//! in shared/backbone/golden.json: identical token ids, last hidden states within 1e-4,
//! pooled embeddings within 1e-5 (the tolerances golden.json suggests).

use std::path::{Path, PathBuf};

use burn::tensor::Device;
use tatra_encoder::Encoder;

pub fn e5_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/encoder/multilingual-e5-small")
}

#[test]
fn matches_the_float32_reference() {
    let Some(golden) = tatra_core::shared::shared_path("backbone/golden.json") else { return };
    let golden: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(golden).unwrap()).unwrap();
    let t0 = std::time::Instant::now();
    let enc = Encoder::load(&e5_dir(), &Device::flex()).unwrap();
    eprintln!("loaded in {:.2} s", t0.elapsed().as_secs_f64());
    let h = enc.hidden_size();
    let tol_h = golden["suggested_tolerance"]["last_hidden_state_abs"].as_f64().unwrap() as f32;
    let tol_e = golden["suggested_tolerance"]["embedding_abs"].as_f64().unwrap() as f32;
    let items = golden["items"].as_array().unwrap();
    assert_eq!(items.len(), 4);
    for item in items {
        let name = item["name"].as_str().unwrap();
        let ids: Vec<u32> = item["ids"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as u32).collect();
        let got = enc.tokenizer.encode(item["input_text"].as_str().unwrap(), true).unwrap().ids;
        assert_eq!(got, ids, "{name}: token ids");
        let no_prefix: Vec<u32> =
            item["ids_without_prefix"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as u32).collect();
        assert_eq!(enc.tokenizer.encode(item["text"].as_str().unwrap(), true).unwrap().ids, no_prefix, "{name}");

        let hidden = enc.forward_one(&ids);
        assert_eq!(hidden.len(), ids.len() * h);
        let mut worst = 0f32;
        for (k, pos) in item["hidden_positions"].as_array().unwrap().iter().enumerate() {
            let pos = pos.as_u64().unwrap() as usize;
            let want = item["last_hidden_state"][k].as_array().unwrap();
            for (j, w) in want.iter().enumerate() {
                worst = worst.max((hidden[pos * h + j] - w.as_f64().unwrap() as f32).abs());
            }
        }
        // Pooled embedding: mean over all tokens, L2-normalised.
        let n = ids.len();
        let mut pooled = vec![0f32; h];
        for t in 0..n {
            for j in 0..h {
                pooled[j] += hidden[t * h + j] / n as f32;
            }
        }
        let norm = pooled.iter().map(|x| x * x).sum::<f32>().max(1e-12).sqrt();
        let worst_e = pooled
            .iter()
            .zip(item["embedding"].as_array().unwrap())
            .map(|(p, w)| (p / norm - w.as_f64().unwrap() as f32).abs())
            .fold(0f32, f32::max);
        eprintln!("{name}: max |Δhidden| = {worst:.2e}, max |Δembedding| = {worst_e:.2e}");
        assert!(worst <= tol_h, "{name}: hidden states differ by {worst}");
        assert!(worst_e <= tol_e, "{name}: embedding differs by {worst_e}");
    }
}

#[test]
fn batched_equals_single() {
    let enc = Encoder::load(&e5_dir(), &Device::flex()).unwrap();
    let a = enc.encode_text("Dobrý deň, ako sa máte?").unwrap();
    let b = enc.encode_text("Hi").unwrap();
    let single = enc.forward_one(&b);
    let batch = tatra_encoder::to_vec(enc.forward(&[a.clone(), b.clone()]));
    let (h, l) = (enc.hidden_size(), a.len());
    let row = &batch[l * h..l * h + b.len() * h];
    let worst = row.iter().zip(&single).map(|(x, y)| (x - y).abs()).fold(0f32, f32::max);
    assert!(worst < 1e-4, "padding changed the short sequence's states by {worst}");
}

#[test]
fn long_sentences_run_in_windows() {
    let enc = Encoder::load(&e5_dir(), &Device::flex()).unwrap();
    // ~1,500 pieces: four windows of at most 510 content pieces.
    let words: Vec<String> = (0..700).map(|i| format!("slovo{}", i % 37)).collect();
    let refs: Vec<&str> = words.iter().map(String::as_str).collect();
    let layout = enc.layout(&refs).unwrap();
    assert!(layout.windows.len() >= 3, "{} pieces", layout.pieces.ids.len());
    let vecs = enc.word_vectors(&[refs.clone()], tatra_encoder::words::Pooling::First, 4096).unwrap();
    assert_eq!(vecs[0].len(), 700 * enc.hidden_size());
    assert!(vecs[0].iter().all(|x| x.is_finite()));
    // A short sentence gives the same vectors alone and beside a long one.
    let short = vec!["Dobrý", "deň", "."];
    let alone = enc.word_vectors(&[short.clone()], tatra_encoder::words::Pooling::Mean, 4096).unwrap();
    let mixed = enc.word_vectors(&[refs, short], tatra_encoder::words::Pooling::Mean, 4096).unwrap();
    let worst = alone[0].iter().zip(&mixed[1]).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
    assert!(worst < 1e-4, "{worst}");
}
