//! BIO tags ↔ entity spans, well-formed decoding, and exact-span evaluation as
//! conlleval / seqeval (default mode) compute it.

use std::collections::BTreeMap;

/// Entity spans `(type, start, end)` (token indices, end exclusive) of a tag sequence,
/// chunked as conlleval does: an entity starts at `B-X`, or at `I-X` after anything
/// but `B-X`/`I-X`; it ends before `O`, `B-…`, or an `I-Y` of another type.
pub fn spans(tags: &[String]) -> Vec<(String, usize, usize)> {
    let mut out = Vec::new();
    let mut cur: Option<(String, usize)> = None;
    for (i, t) in tags.iter().enumerate() {
        let (kind, ty) = match t.split_once('-') {
            Some((k, ty)) if k == "B" || k == "I" => (k, ty),
            _ => ("O", ""),
        };
        let continues = kind == "I" && cur.as_ref().is_some_and(|(c, _)| c == ty);
        if !continues {
            if let Some((c, s)) = cur.take() {
                out.push((c, s, i));
            }
            if kind != "O" {
                cur = Some((ty.to_string(), i));
            }
        }
    }
    if let Some((c, s)) = cur {
        out.push((c, s, tags.len()));
    }
    out
}

/// Whether `next` may follow `prev` in IOB2 (`I-X` only after `B-X` or `I-X`).
pub fn allowed(prev: Option<&str>, next: &str) -> bool {
    match next.strip_prefix("I-") {
        None => true,
        Some(ty) => prev.is_some_and(|p| p == format!("B-{ty}") || p == format!("I-{ty}")),
    }
}

/// The best tag sequence under the IOB2 constraint (Viterbi over per-token
/// log-probabilities `scores[i][tag]`): never an `I-X` without its `B-X`.
pub fn viterbi(scores: &[Vec<f32>], tags: &[String]) -> Vec<usize> {
    viterbi_with(scores, tags, None)
}

/// [`viterbi`] with a CRF's scores added (`crf`: transitions `[k·k]`, row = from, and
/// first tags `[k]`; see [`crate::crf::Crf::scores`]).
pub fn viterbi_with(scores: &[Vec<f32>], tags: &[String], crf: Option<(&[f32], &[f32])>) -> Vec<usize> {
    let n = scores.len();
    let k = tags.len();
    if n == 0 || k == 0 {
        return Vec::new();
    }
    let mut best = vec![vec![f32::NEG_INFINITY; k]; n];
    let mut back = vec![vec![0usize; k]; n];
    for j in 0..k {
        if allowed(None, &tags[j]) {
            best[0][j] = scores[0][j] + crf.map_or(0.0, |c| c.1[j]);
        }
    }
    for i in 1..n {
        for j in 0..k {
            for p in 0..k {
                if best[i - 1][p] == f32::NEG_INFINITY || !allowed(Some(&tags[p]), &tags[j]) {
                    continue;
                }
                let s = best[i - 1][p] + scores[i][j] + crf.map_or(0.0, |c| c.0[p * k + j]);
                if s > best[i][j] {
                    best[i][j] = s;
                    back[i][j] = p;
                }
            }
        }
    }
    let mut j = (0..k).max_by(|&a, &b| best[n - 1][a].total_cmp(&best[n - 1][b])).unwrap_or(0);
    let mut out = vec![0; n];
    for i in (0..n).rev() {
        out[i] = j;
        j = back[i][j];
    }
    out
}

/// Precision, recall and F1 (percent) with counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct Prf {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub gold: usize,
    pub predicted: usize,
    pub correct: usize,
}

impl Prf {
    fn new(correct: usize, gold: usize, predicted: usize) -> Self {
        let p = if predicted == 0 { 0.0 } else { correct as f64 / predicted as f64 };
        let r = if gold == 0 { 0.0 } else { correct as f64 / gold as f64 };
        let f = if p + r == 0.0 { 0.0 } else { 2.0 * p * r / (p + r) };
        Prf { precision: 100.0 * p, recall: 100.0 * r, f1: 100.0 * f, gold, predicted, correct }
    }
}

/// Exact-span scores per entity type and micro-averaged (`"micro"`) over sentence pairs
/// of the same tokens.
pub fn evaluate(gold: &[Vec<String>], pred: &[Vec<String>]) -> Result<BTreeMap<String, Prf>, String> {
    if gold.len() != pred.len() {
        return Err(format!("gold has {} sentences, system {}", gold.len(), pred.len()));
    }
    let mut counts: BTreeMap<String, (usize, usize, usize)> = BTreeMap::new();
    for (i, (g, p)) in gold.iter().zip(pred).enumerate() {
        if g.len() != p.len() {
            return Err(format!("sentence {}: gold has {} tokens, system {}", i + 1, g.len(), p.len()));
        }
        let gs = spans(g);
        let ps = spans(p);
        for s in &gs {
            counts.entry(s.0.clone()).or_default().1 += 1;
        }
        for s in &ps {
            let c = counts.entry(s.0.clone()).or_default();
            c.2 += 1;
            if gs.contains(s) {
                c.0 += 1;
            }
        }
    }
    let mut out: BTreeMap<String, Prf> = counts.iter().map(|(k, &(c, g, p))| (k.clone(), Prf::new(c, g, p))).collect();
    let (c, g, p) = counts.values().fold((0, 0, 0), |a, &(c, g, p)| (a.0 + c, a.1 + g, a.2 + p));
    out.insert("micro".into(), Prf::new(c, g, p));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn conlleval_chunking() {
        assert_eq!(spans(&t("B-PER I-PER O B-LOC")), vec![("PER".into(), 0, 2), ("LOC".into(), 3, 4)]);
        // A stray I- starts an entity; a type change ends one.
        assert_eq!(spans(&t("O I-ORG I-ORG I-LOC")), vec![("ORG".into(), 1, 3), ("LOC".into(), 3, 4)]);
        assert_eq!(spans(&t("B-PER B-PER")), vec![("PER".into(), 0, 1), ("PER".into(), 1, 2)]);
    }

    #[test]
    fn viterbi_never_yields_i_without_b() {
        let tags = t("O B-PER I-PER B-LOC I-LOC");
        // Argmax would say I-PER first, then I-LOC after O.
        let scores = vec![
            vec![-3.0, -1.0, -0.5, -4.0, -4.0],
            vec![-1.0, -4.0, -0.9, -4.0, -4.0],
            vec![-0.5, -4.0, -4.0, -4.0, -0.4],
        ];
        let best = viterbi(&scores, &tags);
        let names: Vec<String> = best.iter().map(|&i| tags[i].clone()).collect();
        for w in std::iter::once(None).chain(names.iter().map(|s| Some(s.as_str()))).collect::<Vec<_>>().windows(2) {
            assert!(allowed(w[0], w[1].unwrap_or("O")), "{names:?}");
        }
        assert_eq!(names, t("B-PER I-PER O"));
    }

    #[test]
    fn micro_and_per_type() {
        let g = vec![t("B-PER I-PER O B-LOC"), t("B-ORG O")];
        let p = vec![t("B-PER I-PER O B-ORG"), t("B-ORG O")];
        let e = evaluate(&g, &p).unwrap();
        assert_eq!(e["micro"].correct, 2);
        assert_eq!((e["micro"].gold, e["micro"].predicted), (3, 3));
        assert!((e["PER"].f1 - 100.0).abs() < 1e-9);
        assert_eq!(e["LOC"].f1, 0.0);
        assert!((e["ORG"].precision - 50.0).abs() < 1e-9);
    }
}
