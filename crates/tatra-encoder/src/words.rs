//! From words to vectors: subword pieces per word, windows for sentences longer than
//! the model's positions, batching by length, and pooling of subword vectors into word
//! vectors (first piece or mean of pieces).
//!
//! A sentence's content pieces (without special tokens) are cut into windows of at
//! most `max_len - 2` pieces that overlap by half a window; each window is wrapped in
//! the special tokens and runs as its own sequence. Every piece then takes its vector
//! from the window in which it lies farthest from an edge, so it sees the most context.

use crate::tokenizer::WordPieces;
use crate::{Encoder, Result};

/// How subword vectors become a word vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pooling {
    /// The word's first piece (trankit's choice).
    #[default]
    First,
    /// The mean of the word's pieces.
    Mean,
    /// The first and the last piece side by side (`2h` per word): the last piece carries
    /// the inflectional ending in most languages.
    FirstLast,
}

impl Pooling {
    /// Word vector size for hidden size `h`.
    pub fn width(self, h: usize) -> usize {
        if self == Pooling::FirstLast { 2 * h } else { h }
    }
}

/// A window over content pieces `[start, end)`, of which `[keep_start, keep_end)` is
/// taken from this window when stitching.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start: usize,
    pub end: usize,
    pub keep_start: usize,
    pub keep_end: usize,
}

/// Windows over `n` content pieces with at most `max_content` pieces each, overlapping
/// by half a window.
pub fn windows(n: usize, max_content: usize) -> Vec<Window> {
    windows_overlap(n, max_content, max_content / 2)
}

/// Windows over `n` content pieces with at most `max_content` pieces each, consecutive
/// windows sharing `overlap` pieces (at least 1, at most half a window).
pub fn windows_overlap(n: usize, max_content: usize, overlap: usize) -> Vec<Window> {
    let max_content = max_content.max(2);
    if n <= max_content {
        return vec![Window { start: 0, end: n, keep_start: 0, keep_end: n }];
    }
    let stride = max_content - overlap.clamp(1, max_content / 2);
    let mut starts = Vec::new();
    let mut s = 0;
    loop {
        starts.push(s);
        if s + max_content >= n {
            break;
        }
        s += stride;
    }
    // Make the last window end exactly at n.
    let last = starts.len() - 1;
    starts[last] = n - max_content;
    let mut out = Vec::with_capacity(starts.len());
    for (i, &st) in starts.iter().enumerate() {
        let end = st + max_content;
        // Boundary between this window and the next: the middle of their overlap.
        let keep_start = if i == 0 { 0 } else { out.last().map_or(st, |w: &Window| w.keep_end) };
        let keep_end = if i + 1 == starts.len() { n } else { (starts[i + 1] + end) / 2 };
        out.push(Window { start: st, end, keep_start, keep_end });
    }
    out
}

/// One sentence laid out as sequences for the encoder.
#[derive(Debug, Clone)]
pub struct Layout {
    pub pieces: WordPieces,
    pub windows: Vec<Window>,
}

impl Encoder {
    /// Pieces and windows of a sentence given as words.
    pub fn layout(&self, words: &[&str]) -> Result<Layout> {
        let pieces = self.tokenizer.encode_words(words)?;
        let windows = windows(pieces.ids.len(), self.max_len() - 2);
        Ok(Layout { pieces, windows })
    }

    /// The id sequence (with special tokens) of one window of a layout.
    pub fn window_ids(&self, layout: &Layout, w: &Window) -> Vec<u32> {
        let mut ids = Vec::with_capacity(w.end - w.start + 2);
        ids.push(self.tokenizer.cls_id);
        ids.extend_from_slice(&layout.pieces.ids[w.start..w.end]);
        ids.push(self.tokenizer.sep_id);
        ids
    }

    /// Word vectors (`n_words × h`, row-major) for each sentence, from the last layer,
    /// running sequences sorted by length in batches of at most `max_tokens` pieces.
    pub fn word_vectors(&self, sentences: &[Vec<&str>], pooling: Pooling, max_tokens: usize) -> Result<Vec<Vec<f32>>> {
        let layouts: Vec<Layout> = sentences.iter().map(|s| self.layout(s)).collect::<Result<_>>()?;
        let mut seqs = Vec::new();
        let mut owner = Vec::new(); // (sentence, window index)
        for (si, l) in layouts.iter().enumerate() {
            for (wi, w) in l.windows.iter().enumerate() {
                seqs.push(self.window_ids(l, w));
                owner.push((si, wi));
            }
        }
        let outputs = self.forward_sorted(&seqs, max_tokens);
        let h = self.hidden_size();
        let mut per_sentence: Vec<Vec<Vec<f32>>> = layouts.iter().map(|l| vec![Vec::new(); l.windows.len()]).collect();
        for ((si, wi), out) in owner.into_iter().zip(outputs) {
            per_sentence[si][wi] = out;
        }
        Ok(layouts
            .iter()
            .zip(per_sentence)
            .map(|(l, outs)| stitch_and_pool(l, &outs, h, pooling))
            .collect())
    }

    /// Layouts of sentences given as words and their states after layers `0..upto`, one
    /// block (`len × h`, special tokens included) per window.
    pub fn lower_states(&self, sentences: &[Vec<&str>], upto: usize) -> Result<(Vec<Layout>, Vec<Vec<Vec<f32>>>)> {
        let layouts: Vec<Layout> = sentences.iter().map(|s| self.layout(s)).collect::<Result<_>>()?;
        let mut seqs = Vec::new();
        let mut owner = Vec::new();
        for (si, l) in layouts.iter().enumerate() {
            for w in &l.windows {
                seqs.push(self.window_ids(l, w));
                owner.push(si);
            }
        }
        let mut out: Vec<Vec<Vec<f32>>> = layouts.iter().map(|_| Vec::new()).collect();
        for (i, v) in self.states_sorted(&seqs, 4096, upto).into_iter().enumerate() {
            out[owner[i]].push(v);
        }
        Ok((layouts, out))
    }

    /// Last-layer states of many sequences (each `len × h`), batched by length.
    pub fn forward_sorted(&self, seqs: &[Vec<u32>], max_tokens: usize) -> Vec<Vec<f32>> {
        self.states_sorted(seqs, max_tokens, self.num_layers())
    }

    /// States after layers `0..upto` of many sequences (each `len × h`, sequences cut at
    /// [`Encoder::max_len`]), run in batches of similar length.
    pub fn states_sorted(&self, seqs: &[Vec<u32>], max_tokens: usize, upto: usize) -> Vec<Vec<f32>> {
        let h = self.hidden_size();
        let mut out = vec![Vec::new(); seqs.len()];
        for batch in length_batches(seqs, max_tokens) {
            let group: Vec<Vec<u32>> = batch.iter().map(|&i| seqs[i].clone()).collect();
            let b = self.embed(&group);
            let l = b.lengths.iter().copied().max().unwrap_or(0).max(1);
            let flat = crate::to_vec(self.run_layers(b.hidden, &b.mask_bias, 0, upto));
            for (k, &i) in batch.iter().enumerate() {
                out[i] = flat[k * l * h..(k * l + b.lengths[k]) * h].to_vec();
            }
        }
        out
    }
}

/// Groups sequence indices into batches of similar length, each with at most
/// `max_tokens` padded pieces (and at least one sequence).
pub fn length_batches(seqs: &[Vec<u32>], max_tokens: usize) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..seqs.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(seqs[i].len()));
    let mut batches = Vec::new();
    let mut cur: Vec<usize> = Vec::new();
    for i in order {
        let longest = cur.first().map_or(seqs[i].len(), |&f| seqs[f].len());
        if !cur.is_empty() && (cur.len() + 1) * longest > max_tokens {
            batches.push(std::mem::take(&mut cur));
        }
        cur.push(i);
    }
    if !cur.is_empty() {
        batches.push(cur);
    }
    batches
}

/// Stitches the window outputs of one sentence (each `(len + 2) × h`, with special
/// tokens) into content-piece vectors and pools them into word vectors.
pub fn stitch_and_pool(layout: &Layout, outputs: &[Vec<f32>], h: usize, pooling: Pooling) -> Vec<f32> {
    let n = layout.pieces.ids.len();
    let mut pieces = vec![0f32; n * h];
    for (w, out) in layout.windows.iter().zip(outputs) {
        for p in w.keep_start..w.keep_end {
            let src = (p - w.start + 1) * h; // +1 skips the leading special token
            pieces[p * h..(p + 1) * h].copy_from_slice(&out[src..src + h]);
        }
    }
    pool(&pieces, &layout.pieces.word_ranges, h, pooling)
}

/// Pools piece vectors (`n × h`) into word vectors by word ranges (`pooling.width(h)` each).
pub fn pool(pieces: &[f32], ranges: &[(usize, usize)], h: usize, pooling: Pooling) -> Vec<f32> {
    let wd = pooling.width(h);
    let mut out = vec![0f32; ranges.len() * wd];
    for (wi, &(s, e)) in ranges.iter().enumerate() {
        let dst = &mut out[wi * wd..(wi + 1) * wd];
        match pooling {
            Pooling::First => dst.copy_from_slice(&pieces[s * h..(s + 1) * h]),
            Pooling::FirstLast => {
                let last = e.max(s + 1) - 1;
                dst[..h].copy_from_slice(&pieces[s * h..(s + 1) * h]);
                dst[h..].copy_from_slice(&pieces[last * h..(last + 1) * h]);
            }
            Pooling::Mean => {
                for p in s..e {
                    for (d, v) in dst.iter_mut().zip(&pieces[p * h..(p + 1) * h]) {
                        *d += v;
                    }
                }
                let k = (e - s).max(1) as f32;
                dst.iter_mut().for_each(|d| *d /= k);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_cover_once() {
        for n in [1, 5, 10, 11, 37, 100, 1001] {
            let ws = windows(n, 10);
            check_cover(n, &ws);
            check_cover(n, &windows_overlap(n, 10, 3));
            check_cover(n, &windows_overlap(n, 10, 1));
        }
    }

    fn check_cover(n: usize, ws: &[Window]) {
        let mut covered = vec![0; n];
        for w in ws {
            assert!(w.end - w.start <= 10 && w.start <= w.keep_start && w.keep_end <= w.end);
            for c in &mut covered[w.keep_start..w.keep_end] {
                *c += 1;
            }
        }
        assert!(covered.iter().all(|&c| c == 1), "n={n}: {ws:?}");
    }

    #[test]
    fn batches_respect_budget() {
        let seqs: Vec<Vec<u32>> = (1..50).map(|n| vec![0; n]).collect();
        let b = length_batches(&seqs, 100);
        assert_eq!(b.iter().map(Vec::len).sum::<usize>(), 49);
        for batch in &b {
            let longest = batch.iter().map(|&i| seqs[i].len()).max().unwrap();
            assert!(batch.len() == 1 || batch.len() * longest <= 100);
        }
    }
}
