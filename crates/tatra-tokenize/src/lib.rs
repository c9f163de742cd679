//! tatra-tokenize owns the raw-text stage: sentence splitting, tokenization and
//! multi-word token expansion, trained as one adapter over the shared encoder
//! (trankit's tokenizer).
//!
//! - [`units`]: raw text → subword units with exact character spans;
//! - [`data`]: paragraphs, gold boundaries and unit labels from CoNLL-U;
//! - [`run`]: the network (adapters + unit classifier), packages, labelling and decoding
//!   into tokens and sentences;
//! - [`mwt`]: multi-word token expansion (training lexicon, then learned edit rules);
//! - [`words`]: words with spaces inside (Vietnamese), a majority vote of the training text;
//! - [`train`]: `tatra train tokenize`.
//!
//! [`Tokenize::document`] turns a whole raw text into a [`Document`] whose tokens carry
//! character spans into it and whose MISC spacing (`SpaceAfter=No`, `SpacesAfter=…`,
//! `SpacesBefore=…`) rebuilds the text exactly.

pub mod data;
pub mod mwt;
pub mod run;
pub mod train;
pub mod units;
pub mod words;

pub use run::{Tokenize, TokenizeError};
use tatra_core::Document;
use tatra_encoder::Encoder;

/// Paragraphs of a raw text: character ranges from the first to the last non-space
/// character of each stretch of lines between blank lines.
pub fn paragraph_spans(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut cur: Option<(usize, usize)> = None;
    let mut line_blank = true;
    let mut first_in_line: Option<usize> = None;
    let mut last_in_line = 0;
    let mut i = 0;
    let mut end_line = |cur: &mut Option<(usize, usize)>, blank: bool, first: Option<usize>, last: usize| {
        if blank {
            if let Some(p) = cur.take() {
                out.push(p);
            }
        } else if let Some(f) = first {
            *cur = Some(match *cur {
                Some((s, _)) => (s, last),
                None => (f, last),
            });
        }
    };
    for c in text.chars() {
        if c == '\n' {
            end_line(&mut cur, line_blank, first_in_line, last_in_line);
            line_blank = true;
            first_in_line = None;
        } else if !c.is_whitespace() {
            line_blank = false;
            first_in_line.get_or_insert(i);
            last_in_line = i + 1;
        }
        i += 1;
    }
    end_line(&mut cur, line_blank, first_in_line, last_in_line);
    if let Some(p) = cur {
        out.push(p);
    }
    out
}

/// The paragraphs of a raw text: their character ranges ([`paragraph_spans`]) and the
/// text of each.
pub fn split_paragraphs(text: &str) -> (Vec<(usize, usize)>, Vec<&str>) {
    let spans = paragraph_spans(text);
    let mut byte_at: Vec<usize> = text.char_indices().map(|(b, _)| b).collect();
    byte_at.push(text.len());
    let paras = spans.iter().map(|&(s, e)| &text[byte_at[s]..byte_at[e]]).collect();
    (spans, paras)
}

impl Tokenize {
    /// Segments a raw text (paragraphs separated by blank lines) into a document.
    /// Sentences are numbered from `first_sent_id`; token spans are character offsets
    /// into `text`, which the document keeps.
    pub fn document(&self, encoder: &Encoder, text: &str, first_sent_id: usize) -> Result<Document, TokenizeError> {
        let (spans, paras) = split_paragraphs(text);
        let segmented = self.segment(encoder, &paras)?;
        Ok(assemble(text, &spans, segmented, first_sent_id))
    }
}

/// Puts segmented paragraphs (token spans relative to each paragraph) together into a
/// document over the whole `text`: global spans, `# newpar`, `# sent_id`, `# text`, and
/// the spacing across paragraphs, before the first token and after the last.
pub fn assemble(text: &str, spans: &[(usize, usize)], segmented: Vec<Vec<tatra_core::Sentence>>, first_sent_id: usize) -> Document {
    let chars: Vec<char> = text.chars().collect();
    let mut doc = Document {
        sentences: Vec::new(),
        text: Some(text.to_string()),
    };
    let mut next_id = first_sent_id;
    for (&(ps, _), sents) in spans.iter().zip(segmented) {
        for (k, mut s) in sents.into_iter().enumerate() {
            for t in &mut s.tokens {
                if let Some((a, b)) = t.span {
                    t.span = Some((a + ps, b + ps));
                }
            }
            if k == 0 {
                s.comments.push("# newpar".into());
            }
            s.comments.push(format!("# sent_id = {next_id}"));
            next_id += 1;
            doc.sentences.push(s);
        }
    }
    // Spacing across paragraphs, before the first token and after the last one.
    let starts: Vec<usize> = doc
        .sentences
        .iter()
        .flat_map(|s| &s.tokens)
        .filter_map(|t| t.span.map(|x| x.0))
        .collect();
    let para_ends: std::collections::HashSet<usize> = spans.iter().map(|p| p.1).collect();
    let mut flat = 0;
    for s in &mut doc.sentences {
        for t in &mut s.tokens {
            flat += 1;
            let Some((a, e)) = t.span else { continue };
            if flat == 1 && a > 0 {
                let before: String = chars[..a].iter().collect();
                run::set_token_misc(t, "SpacesBefore", Some(&run::escape_spaces(&before)));
            }
            let next = starts.get(flat).copied().unwrap_or(chars.len());
            // Within a paragraph the decoder already set the spacing, except after
            // the paragraph's last token.
            if para_ends.contains(&e) {
                let spaces: String = chars[e..next].iter().collect();
                run::set_spacing(t, &spaces);
            }
        }
        let text = s.rebuilt_text();
        s.comments.push(format!("# text = {text}"));
    }
    doc
}

/// Rebuilds the raw text from a document's token forms and MISC spacing
/// (`SpacesBefore`, `SpaceAfter=No`, `SpacesAfter`).
pub fn rebuild_text(doc: &Document) -> String {
    let mut out = String::new();
    for t in doc.sentences.iter().flat_map(|s| &s.tokens) {
        let misc = t.token_misc();
        if let Some(b) = tatra_core::misc_get(misc, "SpacesBefore") {
            out.push_str(&run::unescape_spaces(b));
        }
        out.push_str(&t.form);
        out.push_str(&spaces_after(t));
    }
    out
}

/// The whitespace a token's MISC says follows it: `SpacesAfter` when given, none with
/// `SpaceAfter=No`, else one space.
pub fn spaces_after(t: &tatra_core::Token) -> String {
    let misc = t.token_misc();
    if let Some(sp) = tatra_core::misc_get(misc, "SpacesAfter") {
        run::unescape_spaces(sp)
    } else if tatra_core::misc_has(misc, "SpaceAfter", "No") {
        String::new()
    } else {
        " ".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_split_at_blank_lines() {
        let t = "  One. Two\nthree.\n\n \n Four.\n";
        let p = paragraph_spans(t);
        let chars: Vec<char> = t.chars().collect();
        let texts: Vec<String> = p.iter().map(|&(s, e)| chars[s..e].iter().collect()).collect();
        assert_eq!(texts, vec!["One. Two\nthree.".to_string(), "Four.".to_string()]);
        assert!(paragraph_spans("").is_empty());
        assert!(paragraph_spans(" \n\t\n").is_empty());
    }
}
