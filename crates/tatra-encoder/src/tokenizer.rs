//! Subword tokenization through the HuggingFace `tokenizers` crate, from `tokenizer.json`.

use std::path::Path;

use crate::error::{EncoderError, Result};

/// A tokenizer loaded from a `tokenizer.json`.
pub struct Tokenizer {
    inner: tokenizers::Tokenizer,
    pub cls_id: u32,
    pub sep_id: u32,
    pub pad_id: u32,
}

/// Subword pieces of a text: ids, and the character span of each in the text.
#[derive(Debug, Clone, PartialEq)]
pub struct Pieces {
    pub ids: Vec<u32>,
    pub offsets: Vec<(usize, usize)>,
}

/// Pieces of pre-split words: ids (no special tokens) and, per word, its piece range.
#[derive(Debug, Clone, PartialEq)]
pub struct WordPieces {
    pub ids: Vec<u32>,
    pub word_ranges: Vec<(usize, usize)>,
}

impl Tokenizer {
    pub fn from_file(path: &Path) -> Result<Self> {
        let inner = tokenizers::Tokenizer::from_file(path)
            .map_err(|e| EncoderError::Tokenizer { path: path.into(), message: e.to_string() })?;
        let id = |tok: &str| inner.token_to_id(tok);
        let (cls_id, sep_id, pad_id) = match (id("<s>"), id("</s>"), id("<pad>")) {
            (Some(c), Some(s), Some(p)) => (c, s, p),
            _ => match (id("[CLS]"), id("[SEP]"), id("[PAD]")) {
                (Some(c), Some(s), Some(p)) => (c, s, p),
                _ => {
                    return Err(EncoderError::Tokenizer {
                        path: path.into(),
                        message: "no <s>/</s>/<pad> or [CLS]/[SEP]/[PAD] tokens in the vocabulary".into(),
                    });
                }
            },
        };
        Ok(Tokenizer { inner, cls_id, sep_id, pad_id })
    }

    /// Pieces of a text with the model's special tokens, offsets in characters.
    pub fn encode(&self, text: &str, special: bool) -> Result<Pieces> {
        let enc = self.inner.encode_char_offsets(text, special).map_err(|e| EncoderError::Encode(e.to_string()))?;
        Ok(Pieces { ids: enc.get_ids().to_vec(), offsets: enc.get_offsets().to_vec() })
    }

    /// Pieces of already split words (no special tokens). A word that yields no piece
    /// (e.g. only characters the normaliser deletes) gets the unknown piece.
    pub fn encode_words(&self, words: &[&str]) -> Result<WordPieces> {
        let enc = self.inner.encode(words.to_vec(), false).map_err(|e| EncoderError::Encode(e.to_string()))?;
        let mut word_ranges = vec![(usize::MAX, 0usize); words.len()];
        let mut ids = Vec::with_capacity(enc.get_ids().len());
        for (&id, wid) in enc.get_ids().iter().zip(enc.get_word_ids()) {
            if let Some(w) = wid.map(|w| w as usize).filter(|&w| w < words.len()) {
                let r = &mut word_ranges[w];
                if r.0 == usize::MAX {
                    r.0 = ids.len();
                }
                r.1 = ids.len() + 1;
            }
            ids.push(id);
        }
        // Words without pieces get one unknown piece of their own, in order.
        if word_ranges.iter().any(|r| r.0 == usize::MAX) {
            let unk = self.inner.token_to_id("<unk>").or_else(|| self.inner.token_to_id("[UNK]")).unwrap_or(3);
            let mut out_ids = Vec::with_capacity(ids.len() + 1);
            let mut ranges = Vec::with_capacity(words.len());
            for r in &word_ranges {
                let start = out_ids.len();
                if r.0 == usize::MAX {
                    out_ids.push(unk);
                } else {
                    out_ids.extend_from_slice(&ids[r.0..r.1]);
                }
                ranges.push((start, out_ids.len()));
            }
            return Ok(WordPieces { ids: out_ids, word_ranges: ranges });
        }
        Ok(WordPieces { ids, word_ranges })
    }

    /// The id of a piece, if the vocabulary has it.
    pub fn token_to_id(&self, piece: &str) -> Option<u32> {
        self.inner.token_to_id(piece)
    }

    /// The piece of an id.
    pub fn id_to_token(&self, id: u32) -> Option<String> {
        self.inner.id_to_token(id)
    }

    /// The unknown piece.
    pub fn unk_id(&self) -> u32 {
        self.inner.token_to_id("<unk>").or_else(|| self.inner.token_to_id("[UNK]")).unwrap_or(3)
    }

    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }
}
