//! The document model: Document → Sentence → Token → Word, as UD defines them.

use serde::{Deserialize, Serialize};

/// The value CoNLL-U uses for an unspecified field.
pub const UNSPECIFIED: &str = "_";

/// A whole annotated text: a sequence of sentences.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Document {
    pub sentences: Vec<Sentence>,
    /// The raw text the document was built from, when it was built from raw text.
    /// Token spans (`Token::span`) are character offsets into it.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub text: Option<String>,
}

/// One sentence: its comment lines, its tokens (each holding its syntactic words),
/// its empty nodes (enhanced UD) and its named-entity spans.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Sentence {
    /// Comment lines verbatim, each with its leading `#` and without the line break
    /// (`# sent_id = 1`, `# text = …`, `# newdoc`, anything else), in file order.
    pub comments: Vec<String>,
    pub tokens: Vec<Token>,
    /// Empty nodes (decimal IDs such as `8.1`), in file order.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub empty_nodes: Vec<EmptyNode>,
    /// Named-entity spans over tokens.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub entities: Vec<Entity>,
}

/// A surface token. Usually one word; a multi-word token (French "du") holds several.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Token {
    /// The surface form as it appears in the text.
    pub form: String,
    /// The syntactic words of this token (one, or several for a multi-word token).
    pub words: Vec<Word>,
    /// For a multi-word token, the MISC column of its range line (`SpaceAfter=No` lives
    /// there). For a one-word token MISC belongs to the word and this is `_`.
    pub misc: String,
    /// For a multi-word token, columns LEMMA..DEPS of the range line as read (normally
    /// all `_`); empty when not given.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub range_columns: Vec<String>,
    /// Character offsets `[start, end)` of the token in the document text, when known.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub span: Option<(usize, usize)>,
}

/// A syntactic word with the ten CoNLL-U fields.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Word {
    /// 1-based index of the word in its sentence.
    pub id: usize,
    pub form: String,
    pub lemma: String,
    pub upos: String,
    pub xpos: String,
    pub feats: String,
    /// Index of the head word, 0 for the root; `None` when not (yet) parsed (`_`).
    pub head: Option<usize>,
    pub deprel: String,
    pub deps: String,
    pub misc: String,
}

/// An empty node of enhanced UD (ID `major.minor`); it sits after word `major`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EmptyNode {
    pub major: usize,
    pub minor: usize,
    pub form: String,
    pub lemma: String,
    pub upos: String,
    pub xpos: String,
    pub feats: String,
    /// HEAD and DEPREL as written (normally `_` for empty nodes).
    pub head: String,
    pub deprel: String,
    pub deps: String,
    pub misc: String,
}

/// A named entity over tokens `[start, end)` (indices into `Sentence::tokens`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entity {
    pub label: String,
    pub start: usize,
    pub end: usize,
}

impl Word {
    /// A word with the given form and every other field unspecified.
    pub fn new(id: usize, form: impl Into<String>) -> Self {
        let u = || UNSPECIFIED.to_string();
        Word {
            id,
            form: form.into(),
            lemma: u(),
            upos: u(),
            xpos: u(),
            feats: u(),
            head: None,
            deprel: u(),
            deps: u(),
            misc: u(),
        }
    }
}

impl Token {
    /// A one-word token.
    pub fn single(word: Word) -> Self {
        Token {
            form: word.form.clone(),
            words: vec![word],
            misc: UNSPECIFIED.to_string(),
            range_columns: Vec::new(),
            span: None,
        }
    }

    /// Whether this is a multi-word token (written with a range line in CoNLL-U).
    pub fn is_mwt(&self) -> bool {
        self.words.len() > 1
    }

    /// The MISC column that describes this token's spacing: the range line's for a
    /// multi-word token, the word's otherwise.
    pub fn token_misc(&self) -> &str {
        if self.is_mwt() {
            &self.misc
        } else {
            self.words.first().map_or(UNSPECIFIED, |w| w.misc.as_str())
        }
    }

    /// Whether the token is followed by a space (no `SpaceAfter=No` in its MISC).
    pub fn space_after(&self) -> bool {
        !misc_has(self.token_misc(), "SpaceAfter", "No")
    }
}

impl Sentence {
    /// The value of a `# key = value` comment, if present.
    pub fn comment_value(&self, key: &str) -> Option<&str> {
        self.comments.iter().find_map(|c| {
            let rest = c.strip_prefix('#')?.trim_start();
            let rest = rest.strip_prefix(key)?;
            let rest = rest.trim_start().strip_prefix('=')?;
            Some(rest.strip_prefix(' ').unwrap_or(rest))
        })
    }

    /// `# sent_id = …`
    pub fn sent_id(&self) -> Option<&str> {
        self.comment_value("sent_id")
    }

    /// `# text = …`
    pub fn text(&self) -> Option<&str> {
        self.comment_value("text")
    }

    /// Whether a `# newdoc` comment opens this sentence.
    pub fn is_newdoc(&self) -> bool {
        self.has_flag_comment("newdoc")
    }

    /// Whether a `# newpar` comment opens this sentence.
    pub fn is_newpar(&self) -> bool {
        self.has_flag_comment("newpar")
    }

    fn has_flag_comment(&self, key: &str) -> bool {
        self.comments.iter().any(|c| {
            c.strip_prefix('#')
                .map(|r| r.trim_start())
                .and_then(|r| r.strip_prefix(key))
                .is_some_and(|r| r.is_empty() || r.starts_with([' ', '=', '\t']))
        })
    }

    /// All syntactic words in order.
    pub fn words(&self) -> impl Iterator<Item = &Word> {
        self.tokens.iter().flat_map(|t| t.words.iter())
    }

    /// Mutable access to all syntactic words in order.
    pub fn words_mut(&mut self) -> impl Iterator<Item = &mut Word> {
        self.tokens.iter_mut().flat_map(|t| t.words.iter_mut())
    }

    /// Number of syntactic words.
    pub fn word_count(&self) -> usize {
        self.tokens.iter().map(|t| t.words.len()).sum()
    }

    /// The text rebuilt from the tokens and their `SpaceAfter` information.
    pub fn rebuilt_text(&self) -> String {
        let mut s = String::new();
        for (i, t) in self.tokens.iter().enumerate() {
            s.push_str(&t.form);
            if i + 1 < self.tokens.len() && t.space_after() {
                s.push(' ');
            }
        }
        s
    }
}

impl Document {
    /// Number of syntactic words in the whole document.
    pub fn word_count(&self) -> usize {
        self.sentences.iter().map(Sentence::word_count).sum()
    }
}

/// Whether a MISC value (`A=1|B=2`) contains `key=value`.
pub fn misc_has(misc: &str, key: &str, value: &str) -> bool {
    misc_get(misc, key) == Some(value)
}

/// The value of `key` in a MISC column, if present.
pub fn misc_get<'a>(misc: &'a str, key: &str) -> Option<&'a str> {
    if misc == UNSPECIFIED {
        return None;
    }
    misc.split('|').find_map(|item| {
        let (k, v) = item.split_once('=')?;
        (k == key).then_some(v)
    })
}

/// `misc` with `key=value` set (replacing an existing value of `key`), keeping the other
/// items in their order; `value = None` removes the key. Returns `_` when nothing is left.
pub fn misc_set(misc: &str, key: &str, value: Option<&str>) -> String {
    let mut items: Vec<String> = if misc == UNSPECIFIED || misc.is_empty() {
        Vec::new()
    } else {
        misc.split('|')
            .filter(|item| item.split_once('=').map_or(*item, |(k, _)| k) != key)
            .map(str::to_string)
            .collect()
    };
    if let Some(v) = value {
        items.push(format!("{key}={v}"));
    }
    if items.is_empty() {
        UNSPECIFIED.to_string()
    } else {
        items.join("|")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn misc_helpers() {
        assert_eq!(misc_get("SpaceAfter=No|X=1", "X"), Some("1"));
        assert!(misc_has("SpaceAfter=No", "SpaceAfter", "No"));
        assert_eq!(misc_set("_", "SpaceAfter", Some("No")), "SpaceAfter=No");
        assert_eq!(misc_set("SpaceAfter=No", "SpaceAfter", None), "_");
        assert_eq!(misc_set("A=1|NER=O", "NER", Some("B-PER")), "A=1|NER=B-PER");
    }

    #[test]
    fn comment_values() {
        let s = Sentence {
            comments: vec!["# sent_id = a-1".into(), "# text = Hi  there".into(), "# newpar".into()],
            ..Default::default()
        };
        assert_eq!(s.sent_id(), Some("a-1"));
        assert_eq!(s.text(), Some("Hi  there"));
        assert!(s.is_newpar());
        assert!(!s.is_newdoc());
    }
}
