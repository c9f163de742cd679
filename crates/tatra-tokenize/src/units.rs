//! Units: the subword pieces of raw text that the tokenize head labels, each with its
//! exact character span in the text.
//!
//! The text is cut by the encoder's own tokenizer (so the encoder sees the pieces it
//! was trained on), then a piece is split further wherever a token boundary may fall
//! inside it: around punctuation and symbols ("2002." → "2002" "."), and between the
//! characters of scripts written without spaces (Han, kana), which sentencepiece
//! otherwise merges into multi-character pieces across word boundaries — every such
//! piece, or (packages that say which, [`Layout::cut_pieces`]) only the pieces the
//! training data cuts inside, the others staying whole as pretrained. Splits happen
//! only between grapheme clusters, so combining marks (Tamil vowel signs, decomposed
//! accents) and emoji sequences stay whole.

use std::collections::HashSet;

use tatra_encoder::Result;
use tatra_encoder::tokenizer::Tokenizer;
use unicode_segmentation::UnicodeSegmentation;

/// The longest stretch of text handed to the subword tokenizer at once (characters);
/// longer paragraphs are cut at whitespace (or, failing that, anywhere).
pub const CHUNK_CHARS: usize = 4096;

/// Units of a text: piece ids, character spans `[start, end)` and whether the unit is
/// labelled (the last unit of a span with at least one non-space character).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Units {
    pub ids: Vec<u32>,
    pub spans: Vec<(usize, usize)>,
    pub labelled: Vec<bool>,
}

impl Units {
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    fn push(&mut self, id: u32, span: (usize, usize), labelled: bool) {
        self.ids.push(id);
        self.spans.push(span);
        self.labelled.push(labelled);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Word,
    NoSpaceScript,
    Other,
}

/// Whether a character belongs to a script written without spaces between words.
pub fn is_no_space_script(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF      // hiragana, katakana
        | 0x31F0..=0x31FF    // katakana extensions
        | 0x3400..=0x4DBF    // CJK extension A
        | 0x4E00..=0x9FFF    // CJK unified ideographs
        | 0xF900..=0xFAFF    // CJK compatibility ideographs
        | 0xFF66..=0xFF9F    // half-width katakana
        | 0x20000..=0x2FA1F) // CJK extensions B–F, compatibility supplement
}

fn class(g: &str) -> Class {
    match g.chars().next() {
        Some(c) if is_no_space_script(c) => Class::NoSpaceScript,
        Some(c) if c.is_alphanumeric() => Class::Word,
        _ => Class::Other,
    }
}

/// Cuts `text` into stretches of at most `max_chars` characters, preferring to cut
/// after whitespace. Returns character ranges.
pub fn chunks(text: &str, max_chars: usize) -> Vec<(usize, usize)> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut start = 0;
    while start < chars.len() {
        let mut end = (start + max_chars).min(chars.len());
        if end < chars.len() {
            if let Some(p) = (start + max_chars / 2..end).rev().find(|&p| chars[p].is_whitespace()) {
                end = p + 1;
            }
        }
        out.push((start, end));
        start = end;
    }
    out
}

/// How a text is cut into units: a tokenize package's choices (see [`units_with`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct Layout<'a> {
    /// The space before a word stays in its piece (see [`units`]).
    pub spaces_in_pieces: bool,
    /// Multi-character pieces of scripts without spaces (Han, kana) are cut into their
    /// characters: all of them (`None`), or only these piece ids (the others stay one
    /// unit, as the encoder read them in pretraining: see [`pieces_cut_inside`]).
    pub cut_pieces: Option<&'a HashSet<u32>>,
    /// With `cut_pieces`: pieces longer than this many characters are cut all the same
    /// (0: no limit).
    pub whole_max_chars: usize,
    /// With `cut_pieces`: pieces with hiragana are cut all the same (Japanese particles
    /// and endings, which UD makes tokens of their own, are hiragana).
    pub cut_hiragana: bool,
}

impl Layout<'_> {
    /// Whether a run of grapheme clusters of scripts without spaces, the piece `id`,
    /// stays one unit.
    fn keeps_whole(&self, id: u32, graphemes: &[(usize, &str)]) -> bool {
        let Some(cut) = self.cut_pieces else { return false };
        !cut.contains(&id)
            && (self.whole_max_chars == 0 || graphemes.len() <= self.whole_max_chars)
            && !(self.cut_hiragana && graphemes.iter().any(|g| g.1.chars().any(|c| matches!(c as u32, 0x3040..=0x309F))))
    }
}

/// The byte offset of every character of `text`, and of its end.
fn byte_offsets(text: &str) -> Vec<usize> {
    text.char_indices().map(|(b, _)| b).chain(std::iter::once(text.len())).collect()
}

/// The subword pieces of `text` (`byte_of`: its [`byte_offsets`]): id and character
/// span, the chunks of [`chunks`] put together; with `spaces_in_pieces` a word piece's
/// span leaves out the space before it.
fn pieces(tok: &Tokenizer, text: &str, byte_of: &[usize], spaces_in_pieces: bool) -> Result<Vec<(u32, usize, usize)>> {
    let mut out = Vec::new();
    for (cs, ce) in chunks(text, CHUNK_CHARS) {
        let chunk = &text[byte_of[cs]..byte_of[ce]];
        let encoded = tok.encode(chunk, false)?;
        for (&id, &(s, e)) in encoded.ids.iter().zip(&encoded.offsets) {
            let (mut s, e) = ((s + cs).min(ce), (e + cs).min(ce));
            if spaces_in_pieces && tok.id_to_token(id).is_some_and(|p| p.starts_with('\u{2581}')) {
                let slice = &text[byte_of[s]..byte_of[e]];
                let lead = slice.chars().take_while(|c| c.is_whitespace()).count();
                if lead < slice.chars().count() {
                    s += lead;
                }
            }
            out.push((id, s, e));
        }
    }
    Ok(out)
}

/// Grapheme clusters of `slice` (which starts at character `start`) with their
/// character offsets.
fn graphemes_at(slice: &str, start: usize) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut at = start;
    for g in slice.graphemes(true) {
        out.push((at, g));
        at += g.chars().count();
    }
    out
}

/// Whether a piece is two or more grapheme clusters, all of scripts without spaces.
fn no_space_run(graphemes: &[(usize, &str)]) -> bool {
    graphemes.len() > 1 && graphemes.iter().all(|g| class(g.1) == Class::NoSpaceScript)
}

/// The units of `text` in the layout of packages that cut every piece of scripts
/// without spaces into characters; spans are character offsets into `text`.
///
/// The subword tokenizer reports a word piece's span with the space before it (the
/// sentencepiece marker `▁` stands for that space). With `spaces_in_pieces` the space
/// stays with its piece, as the encoder saw text in pretraining (`▁Hùng`); without it
/// (packages trained before 2026-11-28) the space is cut off into a unit of its own, so
/// that the encoder reads an extra `▁` before every word after the first — kept only so
/// that those packages see the input they were trained on.
pub fn units(tok: &Tokenizer, text: &str, spaces_in_pieces: bool) -> Result<Units> {
    units_with(tok, text, &Layout { spaces_in_pieces, ..Layout::default() })
}

/// The units of `text` in `layout`; spans are character offsets into `text`.
pub fn units_with(tok: &Tokenizer, text: &str, layout: &Layout) -> Result<Units> {
    let mut out = Units::default();
    let byte_of = byte_offsets(text);
    for (id, s, e) in pieces(tok, text, &byte_of, layout.spaces_in_pieces)? {
        let slice = &text[byte_of[s]..byte_of[e]];
        if slice.chars().all(char::is_whitespace) {
            // A bare "▁" (or a piece of spaces): context only.
            out.push(id, (s, e), false);
            continue;
        }
        let graphemes = graphemes_at(slice, s);
        if no_space_run(&graphemes) && layout.keeps_whole(id, &graphemes) {
            // A piece the training data never cuts inside: one unit, as pretrained.
            out.push(id, (s, e), true);
            continue;
        }
        let split = |a: &str, b: &str| {
            let (ca, cb) = (class(a), class(b));
            ca != Class::Word || cb != Class::Word
        };
        let mut segments: Vec<(usize, usize)> = Vec::new(); // grapheme index ranges
        let mut first = 0;
        for i in 1..graphemes.len() {
            if split(graphemes[i - 1].1, graphemes[i].1) {
                segments.push((first, i));
                first = i;
            }
        }
        segments.push((first, graphemes.len()));
        if segments.len() == 1 {
            out.push(id, (s, e), true);
            continue;
        }
        let prefixed = tok.id_to_token(id).is_some_and(|p| p.starts_with('\u{2581}'));
        for (k, &(a, b)) in segments.iter().enumerate() {
            let seg_start = graphemes[a].0;
            let seg_end = if b < graphemes.len() { graphemes[b].0 } else { e };
            let seg: String = graphemes[a..b].iter().map(|g| g.1).collect();
            let ids = segment_ids(tok, &seg, k == 0 && prefixed)?;
            let n = ids.len();
            for (j, sid) in ids.into_iter().enumerate() {
                out.push(sid, (seg_start, seg_end), j + 1 == n);
            }
        }
    }
    Ok(out)
}

/// The multi-character pieces of scripts without spaces inside which a token of `text`
/// ends (`ends[c]`: a token ends before character `c`), as piece strings, sorted: the
/// pieces a [`Layout`] must cut into characters for these boundaries to be found. Pieces
/// the training text never cuts inside stay whole, so the encoder reads them as it was
/// pretrained (on Chinese-GSD dev, 436 of the pieces; 2.85% of the test file's token ends
/// fall inside the others).
pub fn pieces_cut_inside(tok: &Tokenizer, text: &str, ends: &[bool]) -> Result<Vec<String>> {
    let byte_of = byte_offsets(text);
    let mut out = std::collections::BTreeSet::new();
    for (id, s, e) in pieces(tok, text, &byte_of, true)? {
        let graphemes = graphemes_at(&text[byte_of[s]..byte_of[e]], s);
        if no_space_run(&graphemes) && graphemes[1..].iter().any(|g| ends.get(g.0).copied().unwrap_or(false)) {
            if let Some(p) = tok.id_to_token(id) {
                out.insert(p);
            }
        }
    }
    Ok(out.into_iter().collect())
}

/// Piece ids for a segment of a piece: the segment itself when the vocabulary has it,
/// else what the tokenizer makes of it alone (without a bare leading "▁").
fn segment_ids(tok: &Tokenizer, seg: &str, prefixed: bool) -> Result<Vec<u32>> {
    let direct = if prefixed { format!("\u{2581}{seg}") } else { seg.to_string() };
    if let Some(id) = tok.token_to_id(&direct) {
        return Ok(vec![id]);
    }
    let p = tok.encode(seg, false)?;
    let bare = tok.token_to_id("\u{2581}");
    let mut ids: Vec<u32> = p.ids;
    if !prefixed && ids.len() > 1 && Some(ids[0]) == bare {
        ids.remove(0);
    }
    if ids.is_empty() {
        ids.push(tok.unk_id());
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_cover_the_text_and_prefer_whitespace() {
        let t = "aaaa bbbb cccc dddd";
        let c = chunks(t, 8);
        assert_eq!(c.first().map(|c| c.0), Some(0));
        assert_eq!(c.last().map(|c| c.1), Some(t.chars().count()));
        for w in c.windows(2) {
            assert_eq!(w[0].1, w[1].0);
        }
        assert_eq!(c[0], (0, 5));
        let long = "x".repeat(20);
        assert_eq!(chunks(&long, 8), vec![(0, 8), (8, 16), (16, 20)]);
    }

    #[test]
    fn classes() {
        assert_eq!(class("中"), Class::NoSpaceScript);
        assert_eq!(class("の"), Class::NoSpaceScript);
        assert_eq!(class("é"), Class::Word);
        assert_eq!(class("e\u{301}"), Class::Word);
        assert_eq!(class("."), Class::Other);
        assert_eq!(class("😀"), Class::Other);
    }
}
