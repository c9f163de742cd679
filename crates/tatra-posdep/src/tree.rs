//! Decoding arc scores into a well-formed dependency tree: exactly one word attached to
//! the root, no cycle. Chu-Liu/Edmonds maximum spanning arborescence, run with each of
//! the few best root candidates as the only child of the root, keeping the best tree.

/// `scores[d][h]`: score of word `d` (1-based; 0 is the root) taking head `h`.
/// Returns `heads[d]` for d in 0..=n (`heads[0] = 0`).
pub fn decode(scores: &[Vec<f32>]) -> Vec<usize> {
    let n = scores.len();
    if n <= 1 {
        return vec![0; n];
    }
    if n == 2 {
        return vec![0, 0];
    }
    let mut cands: Vec<usize> = (1..n).collect();
    cands.sort_by(|&a, &b| scores[b][0].total_cmp(&scores[a][0]));
    cands.truncate(4);
    let mut best: Option<(f64, Vec<usize>)> = None;
    for &r in &cands {
        let mut s: Vec<Vec<f64>> = scores.iter().map(|row| row.iter().map(|&x| x as f64).collect()).collect();
        for (d, row) in s.iter_mut().enumerate().skip(1) {
            if d != r {
                row[0] = f64::NEG_INFINITY;
            }
        }
        let heads = chu_liu_edmonds(&s);
        let total: f64 = (1..n).map(|d| scores[d][heads[d]] as f64).sum();
        if best.as_ref().is_none_or(|(b, _)| total > *b) {
            best = Some((total, heads));
        }
    }
    best.map(|(_, h)| h).unwrap_or_else(|| vec![0; n])
}

/// Maximum spanning arborescence rooted at node 0 (`s[d][h]`, −∞ for forbidden arcs).
pub fn chu_liu_edmonds(s: &[Vec<f64>]) -> Vec<usize> {
    let n = s.len();
    let mut heads = vec![0usize; n];
    for d in 1..n {
        let mut bh = usize::MAX;
        let mut bs = f64::NEG_INFINITY;
        for h in 0..n {
            if h != d && (bh == usize::MAX || s[d][h] > bs) {
                bs = s[d][h];
                bh = h;
            }
        }
        heads[d] = bh;
    }
    // Find a cycle.
    let Some(cycle) = find_cycle(&heads) else { return heads };
    let in_cycle: Vec<bool> = (0..n).map(|v| cycle.contains(&v)).collect();
    // Contract: new node ids: non-cycle nodes keep their order, the cycle becomes `c`.
    let mut map = vec![usize::MAX; n];
    let mut back = Vec::new();
    for v in 0..n {
        if !in_cycle[v] {
            map[v] = back.len();
            back.push(v);
        }
    }
    let c = back.len();
    let m = c + 1;
    let cycle_score: f64 = cycle.iter().map(|&v| s[v][heads[v]]).sum();
    let mut t = vec![vec![f64::NEG_INFINITY; m]; m];
    // For arcs into the cycle: which cycle node they enter; out of it: which node leaves.
    let mut enter = vec![usize::MAX; m]; // by new head id: the cycle node entered
    let mut leave = vec![usize::MAX; m]; // by new dependent id: the cycle node that is head
    for d in 0..n {
        for h in 0..n {
            if d == h || d == 0 || s[d][h] == f64::NEG_INFINITY {
                continue;
            }
            match (in_cycle[d], in_cycle[h]) {
                (false, false) => {
                    let (nd, nh) = (map[d], map[h]);
                    if s[d][h] > t[nd][nh] {
                        t[nd][nh] = s[d][h];
                    }
                }
                (true, false) => {
                    let nh = map[h];
                    let v = cycle_score - s[d][heads[d]] + s[d][h];
                    if v > t[c][nh] {
                        t[c][nh] = v;
                        enter[nh] = d;
                    }
                }
                (false, true) => {
                    let nd = map[d];
                    if s[d][h] > t[nd][c] {
                        t[nd][c] = s[d][h];
                        leave[nd] = h;
                    }
                }
                (true, true) => {}
            }
        }
    }
    let sub = chu_liu_edmonds(&t);
    let mut out = heads.clone();
    for nd in 1..m {
        let nh = sub[nd];
        if nd == c {
            let entered = enter[nh];
            let h = back[nh];
            if entered != usize::MAX {
                out[entered] = h;
            }
        } else {
            let d = back[nd];
            out[d] = if nh == c { leave[nd] } else { back[nh] };
        }
    }
    out
}

fn find_cycle(heads: &[usize]) -> Option<Vec<usize>> {
    let n = heads.len();
    let mut color = vec![0u8; n];
    color[0] = 2;
    for start in 1..n {
        let mut path = Vec::new();
        let mut v = start;
        while color[v] == 0 {
            color[v] = 1;
            path.push(v);
            v = heads[v];
        }
        if color[v] == 1 {
            let pos = path.iter().position(|&p| p == v).unwrap_or(0);
            return Some(path[pos..].to_vec());
        }
        for p in path {
            color[p] = 2;
        }
    }
    None
}

/// Whether `heads` (index 0 = root) is a tree with exactly one child of the root.
pub fn is_tree(heads: &[usize]) -> bool {
    let n = heads.len();
    if n <= 1 {
        return true;
    }
    let roots = (1..n).filter(|&d| heads[d] == 0).count();
    roots == 1 && heads[1..].iter().all(|&h| h < n) && find_cycle(heads).is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lcg(seed: &mut u64) -> f32 {
        *seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((*seed >> 33) % 1000) as f32 / 100.0
    }

    #[test]
    fn random_scores_give_trees() {
        let mut seed = 1u64;
        for n in 2..40 {
            for _ in 0..5 {
                let s: Vec<Vec<f32>> = (0..n).map(|_| (0..n).map(|_| lcg(&mut seed)).collect()).collect();
                let h = decode(&s);
                assert!(is_tree(&h), "{h:?}");
            }
        }
    }

    #[test]
    fn finds_the_best_tree() {
        // Brute force over all head assignments for n = 4 words.
        let mut seed = 7u64;
        for _ in 0..30 {
            let n = 5;
            let s: Vec<Vec<f32>> = (0..n).map(|_| (0..n).map(|_| lcg(&mut seed)).collect()).collect();
            let got = decode(&s);
            let score = |h: &[usize]| (1..n).map(|d| s[d][h[d]]).sum::<f32>();
            let mut best = f32::MIN;
            let mut h = vec![0usize; n];
            for code in 0..(n.pow((n - 1) as u32)) {
                let mut c = code;
                for d in 1..n {
                    h[d] = c % n;
                    c /= n;
                }
                if (1..n).all(|d| h[d] != d) && is_tree(&h) {
                    best = best.max(score(&h));
                }
            }
            assert!((score(&got) - best).abs() < 1e-4, "{} vs {best}", score(&got));
        }
    }
}
