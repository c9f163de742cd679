//! `tatra eval-ner` agrees with seqeval (PyPI, default mode) on synthetic IOB2 pairs
//! (fixtures from `scripts/ner-fixtures.py`), and NER decoding never yields an `I-X`
//! without its `B-X`.

use std::path::Path;

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ner").join(name)
}

#[test]
fn eval_ner_matches_seqeval() {
    for k in 0..3 {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_tatra"))
            .arg("eval-ner")
            .arg(fixture(&format!("pair{k}.gold.iob2")))
            .arg(fixture(&format!("pair{k}.system.iob2")))
            .arg("--json")
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let ours: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let theirs: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(fixture(&format!("pair{k}.seqeval.json"))).unwrap()).unwrap();
        for (name, exp) in theirs.as_object().unwrap() {
            let key = if name == "micro avg" { "micro" } else { name.as_str() };
            for m in ["precision", "recall", "f1"] {
                let a = ours[key][m].as_f64().unwrap();
                let b = exp[m].as_f64().unwrap();
                assert!((a - b).abs() < 1e-9, "pair {k} {name} {m}: tatra {a}, seqeval {b}");
            }
            assert_eq!(ours[key]["gold"].as_u64(), exp["gold"].as_u64(), "pair {k} {name} support");
        }
    }
}

#[test]
fn decoding_never_yields_i_without_b() {
    use tatra::ner::spans::{allowed, viterbi};
    let tags: Vec<String> = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG"].iter().map(|s| s.to_string()).collect();
    let mut rng = tatra::core::rng::SplitMix64(7);
    for _ in 0..2000 {
        let n = 1 + (rng.next_u64() % 30) as usize;
        // Random scores that favour I- tags, the hard case for plain argmax.
        let scores: Vec<Vec<f32>> = (0..n)
            .map(|_| (0..tags.len()).map(|j| -((rng.next_u64() % 1000) as f32) / 100.0 + if tags[j].starts_with("I-") { 2.0 } else { 0.0 }).collect())
            .collect();
        let best = viterbi(&scores, &tags);
        let mut prev: Option<&str> = None;
        for &j in &best {
            assert!(allowed(prev, &tags[j]), "{:?}", best.iter().map(|&i| tags[i].as_str()).collect::<Vec<_>>());
            prev = Some(&tags[j]);
        }
    }
}
