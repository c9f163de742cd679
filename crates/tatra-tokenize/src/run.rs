//! Segmenting raw text with a tokenize package: units → adapted encoder → one label per
//! unit → tokens, multi-word tokens and sentences with exact character spans.

use std::collections::HashSet;
use std::path::Path;

use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig};
use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};
use tatra_adapters::package::{Meta, Package};
use tatra_adapters::lstm::BiLstm;
use tatra_adapters::{AdaptedTop, AdapterConfig};
use tatra_core::{Sentence, Token, Word, misc_set};
use tatra_encoder::words::{Window, windows_overlap};
use tatra_encoder::Encoder;

use crate::data::{self, N_LABELS};
use crate::mwt::Mwt;
use crate::units::{Layout, Units, units_with};

/// The stage configuration stored in a package's `config.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenizeConfig {
    pub adapters: AdapterConfig,
    /// Tokens may contain spaces (Vietnamese): whitespace alone does not end a token.
    pub space_tokens: bool,
    /// Content units per encoder window (windows overlap by half).
    pub window: usize,
    #[serde(default)]
    pub dropout: f64,
    /// Where the training data never splits a run of letters except before these
    /// (sorted, lowercased) continuations — English `n't`, say — a predicted token end
    /// between two letters is dropped unless what follows is one of them. `None`: no
    /// such constraint (scripts without spaces, and packages from before it).
    #[serde(default)]
    pub glued: Option<Vec<String>>,
    /// Punctuation the training data always splits from an adjacent letter: a token end
    /// is added there where the model put none (empty in packages from before it).
    #[serde(default)]
    pub punct_splits: crate::data::PunctSplits,
    /// Shapes of chunks the training text always starts a sentence with after a word
    /// without final punctuation ("(0)" for "(1) …"): a sentence end is added before them
    /// ([`crate::data::sentence_starts`]; empty in packages from before it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sentence_starts: Vec<String>,
    /// Connector and dash marks the training text never splits a token next to inside a
    /// whitespace-free chunk (`_` in Czech-CLTT's `§_7_odst._2`): the model's token ends
    /// there are dropped ([`crate::data::joiners`]; empty in packages from before it).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub joiners: String,
    /// Where tokens contain spaces (Vietnamese) or the script has none between words
    /// (Chinese, Japanese): the training text's words of several syllables or
    /// characters, by majority vote, which cut and join the model's tokens (see
    /// [`crate::words`]). `None` for other languages and in packages without it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub space_words: Option<crate::words::SpaceWords>,
    /// Added to the sentence-end logits before the decision (0 unless chosen on a dev
    /// set with `tatra train tokenize-scores --tune-sentence-bias`).
    #[serde(default)]
    pub sentence_bias: f32,
    /// Added as well to the sentence-end logits of units that end in a letter or digit
    /// followed by whitespace and a capital letter — where a heading without final
    /// punctuation meets the next sentence (0 unless chosen on a dev set with `tatra
    /// train tokenize-scores --tune-heading-bias`).
    #[serde(default, skip_serializing_if = "is_zero_f32")]
    pub heading_bias: f32,
    /// Units keep the space before a word inside its piece (`▁word`, as the encoder was
    /// pretrained); false in packages trained before 2026-11-28, whose units cut that
    /// space into a `▁` unit of its own (see [`crate::units::units`]).
    #[serde(default)]
    pub spaces_in_pieces: bool,
    /// Multi-character pieces of scripts without spaces (Han, kana) that are cut into
    /// characters: those the training data cuts inside (piece strings, sorted); the
    /// others stay one unit. `None` (packages trained without `--whole-pieces`): every
    /// such piece is cut (see [`crate::units::Layout`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cut_pieces: Option<Vec<String>>,
    /// With `cut_pieces`: longer pieces are cut all the same (0: no limit).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub whole_max_chars: usize,
    /// With `cut_pieces`: pieces with hiragana are cut all the same.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cut_hiragana: bool,
    /// Width per direction of a unit-level BiLSTM over each window's adapted states,
    /// its output read by the head beside them (0: none, the head reads the adapted
    /// states alone; packages from before it).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub lstm: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

fn is_zero_f32(x: &f32) -> bool {
    *x == 0.0
}

impl TokenizeConfig {
    /// The unit layout of this package (`cut`: its `cut_pieces` as piece ids).
    pub fn layout<'a>(&self, cut: Option<&'a HashSet<u32>>) -> Layout<'a> {
        Layout { spaces_in_pieces: self.spaces_in_pieces, cut_pieces: cut, whole_max_chars: self.whole_max_chars, cut_hiragana: self.cut_hiragana }
    }

    /// `cut_pieces` as piece ids of `tok`.
    pub fn cut_ids(&self, tok: &tatra_encoder::tokenizer::Tokenizer) -> Option<HashSet<u32>> {
        self.cut_pieces.as_ref().map(|c| c.iter().filter_map(|p| tok.token_to_id(p)).collect())
    }
}

#[derive(Module, Debug)]
pub struct TokenizeNet {
    pub top: AdaptedTop,
    pub head: Linear,
    pub dropout: Dropout,
    /// The unit-level BiLSTM ([`TokenizeConfig::lstm`]; empty without one).
    pub lstm: Vec<BiLstm>,
}

impl TokenizeNet {
    /// Unit logits `[b, l, N_LABELS]` from lower-layer states (`bias`: the attention
    /// bias of [`tatra_adapters::pad_batch`], 0 at real positions, which also masks the
    /// BiLSTM's padding).
    pub fn forward(&self, x: Tensor<3>, bias: &Tensor<4>) -> Tensor<3> {
        let y = self.top.forward(x, bias);
        let y = if self.lstm.is_empty() {
            y
        } else {
            let [b, l, _] = y.dims();
            let mask = bias.clone().reshape([b, l]).greater_elem(-1.0).float();
            tatra_adapters::lstm::contextualise(&self.lstm, &self.dropout, y, &mask, true)
        };
        self.head.forward(self.dropout.forward(y))
    }
}

/// A loaded tokenize model.
pub struct Tokenize {
    pub net: TokenizeNet,
    pub config: TokenizeConfig,
    pub mwt: Mwt,
    pub meta: Meta,
}

/// Loading, saving, training or running a tokenize model failed.
pub type TokenizeError = tatra_adapters::package::StageError;

/// A unit sequence cut into windows for the encoder.
#[derive(Debug, Clone)]
pub struct Laid {
    pub units: Units,
    pub windows: Vec<Window>,
}

impl Tokenize {
    pub fn fresh(encoder: &Encoder, config: &TokenizeConfig, device: &burn::tensor::Device) -> TokenizeNet {
        let h = encoder.hidden_size();
        let lstm = tatra_adapters::lstm::stack(h, config.lstm, 1, device);
        let width = tatra_adapters::lstm::output_width(h, config.lstm, lstm.len(), true);
        TokenizeNet {
            top: AdaptedTop::new(encoder, &config.adapters, device),
            head: LinearConfig::new(width, N_LABELS).init(device),
            dropout: DropoutConfig::new(config.dropout).init(),
            lstm,
        }
    }

    /// Loads a package for this encoder.
    pub fn load(path: &Path, encoder: &Encoder) -> Result<Self, TokenizeError> {
        let pkg = Package::read(path)?;
        pkg.check_encoder(&encoder.identity())?;
        let config: TokenizeConfig = pkg.json("config.json")?;
        let mwt: Mwt = pkg.json("mwt.json")?;
        let net = pkg.weights_into(Self::fresh(encoder, &config, encoder.device()))?;
        Ok(Tokenize {
            net: net.valid(),
            config,
            mwt,
            meta: pkg.meta,
        })
    }

    /// Writes this model as a package (weights in f16 or Q8, or f32 for checkpoints).
    pub fn save(&self, path: &Path, precision: tatra_adapters::params::Precision, extra: &[(&str, Vec<u8>)]) -> Result<(), TokenizeError> {
        let mwt = serde_json::to_vec(&self.mwt).map_err(|e| TokenizeError::Other(format!("{}: {e}", path.display())))?;
        tatra_adapters::package::write_stage(path, &self.meta, &self.config, &self.net, precision, vec![("mwt.json", mwt)], extra)
    }

    /// Units of a paragraph, laid out in overlapping windows.
    pub fn lay(&self, encoder: &Encoder, text: &str) -> Result<Laid, TokenizeError> {
        self.lay_with(encoder, text, self.config.cut_ids(&encoder.tokenizer).as_ref())
    }

    /// [`Tokenize::lay`] with this package's `cut_pieces` already looked up as piece ids
    /// ([`TokenizeConfig::cut_ids`]), for laying out many paragraphs.
    pub fn lay_with(&self, encoder: &Encoder, text: &str, cut: Option<&HashSet<u32>>) -> Result<Laid, TokenizeError> {
        let units = units_with(&encoder.tokenizer, text, &self.config.layout(cut))?;
        let w = self.config.window.min(encoder.max_len() - 2);
        // Half-window overlap (every unit is read where it has at least a quarter window
        // of context on each side). Measured on French-Sequoia: a quarter-window overlap is
        // 17% faster end to end but loses 1.6-2 points of Sentences F1 (dev and test).
        let windows = windows_overlap(units.len(), w, w / 2);
        Ok(Laid { units, windows })
    }

    /// One label per unit for each laid-out text, from the lower-layer states of their
    /// windows (`lower[i][k]`: text i, window k).
    pub fn labels_lower(&self, encoder: &Encoder, laid: &[&Laid], texts: &[&str], lower: &[Vec<Vec<f32>>]) -> Vec<Vec<u8>> {
        let logits = self.logits_lower(encoder, laid, lower);
        logits
            .iter()
            .zip(laid)
            .zip(texts)
            .map(|((l, lay), t)| labels_in(t, &lay.units, l, self.config.sentence_bias, self.config.heading_bias))
            .collect()
    }

    /// The head's logits for every unit of each laid-out text (`None` for units that are
    /// not labelled), each unit read in the window that keeps it.
    pub fn logits_lower(&self, encoder: &Encoder, laid: &[&Laid], lower: &[Vec<Vec<f32>>]) -> Vec<Vec<Option<[f32; N_LABELS]>>> {
        let h = encoder.hidden_size();
        let device = self.net.head.weight.val().device();
        let logits = tatra_adapters::over_windows(lower, h, 4096, &device, |x, bias| self.net.forward(x, bias));
        let mut out: Vec<Vec<Option<[f32; N_LABELS]>>> = laid.iter().map(|l| vec![None; l.units.len()]).collect();
        for (ti, windows) in logits.iter().enumerate() {
            for (k, logits) in windows.iter().enumerate() {
                let win = laid[ti].windows[k];
                for u in win.keep_start..win.keep_end {
                    if !laid[ti].units.labelled[u] {
                        continue;
                    }
                    // +1: the window's leading special token.
                    let mut r = [0.0; N_LABELS];
                    r.copy_from_slice(&logits[((u - win.start) + 1) * N_LABELS..][..N_LABELS]);
                    out[ti][u] = Some(r);
                }
            }
        }
        out
    }

    /// Lower-layer states of every window of the given layouts.
    pub fn lower(&self, encoder: &Encoder, laid: &[&Laid]) -> Vec<Vec<Vec<f32>>> {
        let upto = AdaptedTop::first_layer(encoder, &self.config.adapters);
        lower_states(encoder, laid, upto)
    }

    /// Segments paragraphs (texts without blank lines are best; any text works) into
    /// sentences. Token spans are character offsets into each paragraph.
    pub fn segment(&self, encoder: &Encoder, paragraphs: &[&str]) -> Result<Vec<Vec<Sentence>>, TokenizeError> {
        let mut out = Vec::with_capacity(paragraphs.len());
        // Bounded memory: a few hundred windows' states at a time.
        let mut group: Vec<Laid> = Vec::new();
        let mut group_texts: Vec<&str> = Vec::new();
        let mut windows_in_group = 0;
        let flush = |group: &mut Vec<Laid>, texts: &mut Vec<&str>, out: &mut Vec<Vec<Sentence>>| {
            let refs: Vec<&Laid> = group.iter().collect();
            let lower = self.lower(encoder, &refs);
            let labels = self.labels_lower(encoder, &refs, texts, &lower);
            for ((l, lab), t) in group.iter().zip(&labels).zip(texts.iter()) {
                out.push(self.decode(t, &l.units, lab));
            }
            group.clear();
            texts.clear();
        };
        let cut = self.config.cut_ids(&encoder.tokenizer);
        for p in paragraphs {
            let laid = self.lay_with(encoder, p, cut.as_ref())?;
            windows_in_group += laid.windows.len();
            group.push(laid);
            group_texts.push(p);
            if windows_in_group >= 256 {
                flush(&mut group, &mut group_texts, &mut out);
                windows_in_group = 0;
            }
        }
        if !group.is_empty() {
            flush(&mut group, &mut group_texts, &mut out);
        }
        Ok(out)
    }

    /// Builds sentences from unit labels; every non-space character of `text` ends up
    /// in exactly one token. Spans are character offsets into `text`.
    pub fn decode(&self, text: &str, units: &Units, labels: &[u8]) -> Vec<Sentence> {
        let labels = self.config.punct_splits.apply(text, units, labels);
        let labels = crate::data::apply_sentence_starts(&self.config.sentence_starts, text, units, &labels);
        let labels = match &self.config.glued {
            Some(glued) => keep_words_whole(text, units, &labels, glued),
            None => labels,
        };
        let labels = crate::data::apply_joiners(&self.config.joiners, text, units, &labels);
        let labels = match &self.config.space_words {
            Some(words) => words.apply(text, units, &labels, self.config.space_tokens),
            _ => labels,
        };
        decode(text, units, &labels, self.config.space_tokens, &self.mwt)
    }
}

/// The label of each unit from its logits, with `sentence_bias` added to the
/// sentence-end labels (units that are not labelled: inside).
pub fn labels_of(logits: &[Option<[f32; N_LABELS]>], sentence_bias: f32) -> Vec<u8> {
    logits
        .iter()
        .map(|r| {
            let Some(r) = r else { return 0 };
            let score = |l: usize| if crate::data::is_sentence_end(l as u8) { r[l] + sentence_bias } else { r[l] };
            (0..N_LABELS).max_by(|&a, &c| score(a).total_cmp(&score(c))).unwrap_or(0) as u8
        })
        .collect()
}

/// [`labels_of`], with `heading_bias` also added to the sentence-end labels of the units
/// of `text` that end in a letter or digit followed by whitespace and a capital letter.
pub fn labels_in(text: &str, units: &Units, logits: &[Option<[f32; N_LABELS]>], sentence_bias: f32, heading_bias: f32) -> Vec<u8> {
    if heading_bias == 0.0 {
        return labels_of(logits, sentence_bias);
    }
    let chars: Vec<char> = text.chars().collect();
    let at_heading_end = |e: usize| {
        if e == 0 || e > chars.len() || !chars[e - 1].is_alphanumeric() {
            return false;
        }
        let rest = &chars[e..];
        let spaces = rest.iter().take_while(|c| c.is_whitespace()).count();
        spaces > 0 && rest.get(spaces).is_some_and(|c| c.is_uppercase())
    };
    logits
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let bias = match units.spans.get(i) {
                Some(&(_, e)) if at_heading_end(e) => sentence_bias + heading_bias,
                _ => sentence_bias,
            };
            labels_of(std::slice::from_ref(r), bias)[0]
        })
        .collect()
}

/// Letters and apostrophes: what a glued continuation (`n't`) is made of.
fn word_char(c: char) -> bool {
    c.is_alphabetic() || c == '\'' || c == '’'
}

/// Drops token (and sentence) ends that fall between two letters unless the letters that
/// follow form a continuation of `glued` (sorted, lowercased).
pub fn keep_words_whole(text: &str, units: &Units, labels: &[u8], glued: &[String]) -> Vec<u8> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = labels.to_vec();
    for (i, &(_, e)) in units.spans.iter().enumerate() {
        if out.get(i).copied().unwrap_or(0) == 0 || e == 0 || e >= chars.len() {
            continue;
        }
        if chars[e - 1].is_alphabetic() && chars[e].is_alphabetic() {
            let run: String = chars[e..].iter().take_while(|&&c| word_char(c)).flat_map(|c| c.to_lowercase()).collect();
            if glued.binary_search(&run).is_err() {
                out[i] = 0;
            }
        }
    }
    out
}

/// The label at each character position `0..=n`: the highest label of the units ending
/// there (0, inside, where none ends).
pub(crate) fn labels_at_chars(n: usize, units: &Units, labels: &[u8]) -> Vec<u8> {
    let mut at_end = vec![0u8; n + 1];
    for (i, &(_, e)) in units.spans.iter().enumerate() {
        if labels.get(i).copied().unwrap_or(0) > 0 && e <= n {
            at_end[e] = at_end[e].max(labels[i]);
        }
    }
    at_end
}

/// The tokens the character labels make: `(start, end, label)`, from a non-space
/// character to the next position with a label (or whitespace; with `space_tokens`, a
/// plain space does not end a token), trailing whitespace left out; the label is what
/// ends the token (at least [`data::TOKEN`]).
pub(crate) fn token_runs(chars: &[char], at_end: &[u8], space_tokens: bool) -> Vec<(usize, usize, u8)> {
    let n = chars.len();
    let label = |p: usize| at_end.get(p).copied().unwrap_or(0);
    let breaks_token = |c: char| c.is_whitespace() && (!space_tokens || c != ' ');
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < n {
        if chars[pos].is_whitespace() {
            pos += 1;
            continue;
        }
        let start = pos;
        pos += 1;
        while pos < n && label(pos) == 0 && !breaks_token(chars[pos]) {
            pos += 1;
        }
        let mut end = pos;
        while end > start && chars[end - 1].is_whitespace() {
            end -= 1;
        }
        let lab = if pos < n && label(pos) == 0 { data::TOKEN } else { label(pos).max(data::TOKEN) };
        out.push((start, end, lab));
    }
    out
}

/// Builds sentences from unit labels; every non-space character of `text` ends up in
/// exactly one token. Spans are character offsets into `text`. With `space_tokens`,
/// a space alone does not end a token (Vietnamese); a multi-word token label expands
/// the token with `mwt` when it knows how.
pub fn decode(text: &str, units: &Units, labels: &[u8], space_tokens: bool, mwt: &Mwt) -> Vec<Sentence> {
    let chars: Vec<char> = text.chars().collect();
    let at_end = labels_at_chars(chars.len(), units, labels);
    let mut sentences: Vec<Vec<(usize, usize, bool)>> = vec![Vec::new()];
    let runs = token_runs(&chars, &at_end, space_tokens);
    // A sentence end moved past a closing quote or bracket ([`closing_follows`]).
    let mut deferred = false;
    for (k, &(start, end, lab)) in runs.iter().enumerate() {
        let is_mwt = if mwt.context.is_empty() {
            data::is_mwt(lab)
        } else {
            let form: String = chars[start..end].iter().collect();
            let prev: Option<String> = k.checked_sub(1).map(|j| chars[runs[j].0..runs[j].1].iter().collect());
            mwt.decide(prev.as_deref(), &form, data::is_mwt(lab))
        };
        if let Some(s) = sentences.last_mut() {
            s.push((start, end, is_mwt));
        }
        let next = runs.get(k + 1).map(|r| chars[r.0]);
        let ends = (data::is_sentence_end(lab) && !abbreviation_continues(&chars[start..end], next)) || deferred;
        deferred = false;
        if ends {
            if closing_follows(&chars, &runs, k) {
                deferred = true;
            } else {
                sentences.push(Vec::new());
            }
        }
    }
    // Token starts in reading order, to know the whitespace after each token.
    let starts: Vec<usize> = sentences.iter().flatten().map(|t| t.0).collect();
    let mut flat = 0;
    let mut out = Vec::new();
    for toks in sentences.into_iter().filter(|s| !s.is_empty()) {
        let mut sent = Sentence::default();
        let mut id = 1;
        for &(s, e, is_mwt) in &toks {
            flat += 1;
            let form: String = chars[s..e].iter().collect();
            let expansion = if is_mwt { mwt.expand(&form).filter(|w| w.len() > 1) } else { None };
            let mut token = match expansion {
                Some(words) => {
                    let ws: Vec<Word> = words.iter().enumerate().map(|(j, w)| Word::new(id + j, w.clone())).collect();
                    Token {
                        form: form.clone(),
                        words: ws,
                        misc: "_".into(),
                        range_columns: Vec::new(),
                        span: None,
                    }
                }
                None => Token::single(Word::new(id, form.clone())),
            };
            id += token.words.len();
            token.span = Some((s, e));
            // Spacing up to the next token of the paragraph; after the paragraph's
            // last token the caller knows what follows.
            if let Some(&next) = starts.get(flat) {
                let spaces: String = chars[e..next].iter().collect();
                set_spacing(&mut token, &spaces);
            }
            sent.tokens.push(token);
        }
        out.push(sent);
    }
    out
}

/// Closing marks for [`closing_follows`]: the ASCII quotes and every character of the
/// Unicode classes Pe (close brackets), Pi and Pf (initial and final quotes, which close
/// in some languages: `„…“`, `»…«`).
const CLOSING_MARKS: &str = "\"'\u{29}\u{5D}\u{7D}\u{AB}\u{BB}\u{F3B}\u{F3D}\u{169C}\u{2018}\u{2019}\u{201B}\u{201C}\
\u{201D}\u{201F}\u{2039}\u{203A}\u{2046}\u{207E}\u{208E}\u{2309}\u{230B}\u{232A}\
\u{2769}\u{276B}\u{276D}\u{276F}\u{2771}\u{2773}\u{2775}\u{27C6}\u{27E7}\u{27E9}\
\u{27EB}\u{27ED}\u{27EF}\u{2984}\u{2986}\u{2988}\u{298A}\u{298C}\u{298E}\u{2990}\
\u{2992}\u{2994}\u{2996}\u{2998}\u{29D9}\u{29DB}\u{29FD}\u{2E02}\u{2E03}\u{2E04}\
\u{2E05}\u{2E09}\u{2E0A}\u{2E0C}\u{2E0D}\u{2E1C}\u{2E1D}\u{2E20}\u{2E21}\u{2E23}\
\u{2E25}\u{2E27}\u{2E29}\u{2E56}\u{2E58}\u{2E5A}\u{2E5C}\u{3009}\u{300B}\u{300D}\
\u{300F}\u{3011}\u{3015}\u{3017}\u{3019}\u{301B}\u{301E}\u{301F}\u{FD3E}\u{FE18}\
\u{FE36}\u{FE38}\u{FE3A}\u{FE3C}\u{FE3E}\u{FE40}\u{FE42}\u{FE44}\u{FE48}\u{FE5A}\
\u{FE5C}\u{FE5E}\u{FF09}\u{FF3D}\u{FF5D}\u{FF60}\u{FF63}";

/// Whether the token after `runs[k]` is closing punctuation that belongs to the sentence
/// ending at `runs[k]`: only quotes and brackets (`"`, `'`, Unicode Pe, Pi, Pf), attached
/// to `runs[k]` (no space between) and followed by whitespace or the paragraph's end, as
/// in `Πεκίνο." Στο`. In the training and dev files of the UD treebanks here, no
/// sentence starts with such a token (0 of 871 sentences that end in an attached closing
/// mark; session 44), while the tokenizer sometimes ends the sentence before the mark.
fn closing_follows(chars: &[char], runs: &[(usize, usize, u8)], k: usize) -> bool {
    let (Some(&(_, end, _)), Some(&(s, e, _))) = (runs.get(k), runs.get(k + 1)) else { return false };
    s == end && chars[s..e].iter().all(|c| CLOSING_MARKS.contains(*c)) && runs.get(k + 2).is_none_or(|r| r.0 > e)
}

/// Whether a sentence cannot end after `token` because it is an abbreviation (at most
/// five letters or digits, at least one a letter, and its period: `odst.`, `αριθ.`,
/// `ரூ.`; not `58.`, which may be a number ending a sentence before a list item) and the
/// next token starts with a lowercase letter or a digit (`αριθ. 2580`, `ரூ. 6 கோடி`). In
/// the training and dev files of all 25 UD treebanks here, one sentence boundary of about
/// 35,000 falls there (a list item, `ΟΗΕ. | 4.`), while such pairs inside sentences are
/// common; the tokenizer alone splits there when it has not seen the abbreviation.
fn abbreviation_continues(token: &[char], next: Option<char>) -> bool {
    let Some(next) = next else { return false };
    let [body @ .., '.'] = token else { return false };
    // Letters include the vowel signs of Indic scripts (Unicode's Alphabetic property).
    let word: Vec<&char> = body.iter().rev().take_while(|c| c.is_alphanumeric()).collect();
    (1..=5).contains(&word.len())
        && word.iter().any(|c| c.is_alphabetic())
        && !body.iter().any(|c| c.is_whitespace()) && (next.is_lowercase() || next.is_numeric())
}

/// Records the whitespace after a token in its MISC: nothing for one space,
/// `SpaceAfter=No` for none, `SpacesAfter=…` otherwise.
pub fn set_spacing(t: &mut Token, spaces: &str) {
    set_token_misc(t, "SpaceAfter", None);
    set_token_misc(t, "SpacesAfter", None);
    if spaces.is_empty() {
        set_token_misc(t, "SpaceAfter", Some("No"));
    } else if spaces != " " {
        set_token_misc(t, "SpacesAfter", Some(&escape_spaces(spaces)));
    }
}

/// Sets a key in the MISC column that carries a token's spacing.
pub fn set_token_misc(t: &mut Token, key: &str, value: Option<&str>) {
    if t.is_mwt() {
        t.misc = misc_set(&t.misc, key, value);
    } else if let Some(w) = t.words.first_mut() {
        w.misc = misc_set(&w.misc, key, value);
    }
}

/// Whitespace as UD's `SpacesAfter` writes it: `\s` space, `\t`, `\n`, `\r`, `\\`;
/// other space characters as `\uXXXX`.
pub fn escape_spaces(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            ' ' => out.push_str("\\s"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\\' => out.push_str("\\\\"),
            '|' => out.push_str("\\p"),
            c if c.is_whitespace() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// The inverse of [`escape_spaces`].
pub fn unescape_spaces(s: &str) -> String {
    let mut out = String::new();
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some('s') => out.push(' '),
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('p') => out.push('|'),
            Some('\\') => out.push('\\'),
            Some('u') => {
                let hex: String = (0..4).filter_map(|_| it.next()).collect();
                if let Some(ch) = u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    out.push(ch);
                }
            }
            Some(o) => {
                out.push('\\');
                out.push(o);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// Lower-layer states (layers `0..upto`) of every window of every layout.
pub fn lower_states(encoder: &Encoder, laid: &[&Laid], upto: usize) -> Vec<Vec<Vec<f32>>> {
    let mut seqs = Vec::new();
    let mut owner = Vec::new();
    for (ti, l) in laid.iter().enumerate() {
        for w in &l.windows {
            let mut ids = Vec::with_capacity(w.end - w.start + 2);
            ids.push(encoder.tokenizer.cls_id);
            ids.extend_from_slice(&l.units.ids[w.start..w.end]);
            ids.push(encoder.tokenizer.sep_id);
            seqs.push(ids);
            owner.push(ti);
        }
    }
    let mut out: Vec<Vec<Vec<f32>>> = laid.iter().map(|_| Vec::new()).collect();
    for (i, v) in encoder.states_sorted(&seqs, 4096, upto).into_iter().enumerate() {
        out[owner[i]].push(v);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentence_bias_moves_only_sentence_ends() {
        // inside, token, mwt, sentence, mwt+sentence
        let token_or_sentence = Some([-4.0, 5.6, -4.0, 2.5, -7.0]);
        let mwt = Some([-2.5, 0.4, 4.0, 2.4, -2.7]);
        let unlabelled = None;
        let l = [token_or_sentence, mwt, unlabelled];
        assert_eq!(labels_of(&l, 0.0), vec![1, 2, 0]);
        assert_eq!(labels_of(&l, 3.5), vec![3, 3, 0]);
        assert_eq!(labels_of(&l, -2.0), vec![1, 2, 0]);
    }

    #[test]
    fn heading_bias_only_before_a_capital() {
        // "Smrť a nástupníctvo Zenón zomrel." — units: "Smrť", "nástupníctvo", "Zenón", "zomrel".
        let text = "Smrť nástupníctvo Zenón zomrel.";
        let units = Units { ids: vec![0; 4], spans: vec![(0, 4), (5, 17), (18, 23), (24, 30)], labelled: vec![true; 4] };
        let token_leaning = Some([-4.0, 5.6, -4.0, 2.5, -7.0]);
        let l = [token_leaning; 4];
        // Without the bias every unit ends a token.
        assert_eq!(labels_in(text, &units, &l, 0.0, 0.0), vec![1, 1, 1, 1]);
        // With it, the end before "Zenón" (a capital after a letter) ends a sentence; the
        // end before the lowercase "zomrel" and the one before "." do not move.
        assert_eq!(labels_in(text, &units, &l, 0.0, 4.0), vec![1, 3, 1, 1]);
    }

    #[test]
    fn a_closing_quote_stays_with_the_sentence_it_closes() {
        // `Πεκίνο." Στο μεταξύ.` with the model's sentence end before the quote: the end
        // moves past it. Units: `Πεκίνο`, `.`, `"`, `Στο`, `μεταξύ`, `.`.
        let text = "Πεκίνο.\" Στο μεταξύ.";
        let units = Units { ids: vec![0; 6], spans: vec![(0, 6), (6, 7), (7, 8), (9, 12), (13, 19), (19, 20)], labelled: vec![true; 6] };
        let forms = |labels: &[u8], text: &str| -> Vec<Vec<String>> {
            decode(text, &units, labels, false, &Mwt::default())
                .iter()
                .map(|s| s.tokens.iter().map(|t| t.form.clone()).collect())
                .collect()
        };
        let got = forms(&[1, 3, 1, 1, 1, 3], text);
        assert_eq!(got, vec![vec!["Πεκίνο", ".", "\""], vec!["Στο", "μεταξύ", "."]]);
        // An opening quote (no space after it) starts the next sentence.
        let text = "Πεκίνο.\"Στο μεταξύ.";
        let units = Units { ids: vec![0; 6], spans: vec![(0, 6), (6, 7), (7, 8), (8, 11), (12, 18), (18, 19)], labelled: vec![true; 6] };
        let got = decode(text, &units, &[1, 3, 1, 1, 1, 3], false, &Mwt::default());
        assert_eq!(got.len(), 2);
        assert_eq!(got[1].tokens[0].form, "\"");
        // A quote after a space is not attached: it starts the next sentence.
        let text = "Πεκίνο. \" Στο";
        let units = Units { ids: vec![0; 4], spans: vec![(0, 6), (6, 7), (8, 9), (10, 13)], labelled: vec![true; 4] };
        let got = decode(text, &units, &[1, 3, 1, 1], false, &Mwt::default());
        assert_eq!(got[1].tokens[0].form, "\"");
        // At the paragraph's end a closing bracket joins the sentence before it.
        let text = "Konec.)";
        let units = Units { ids: vec![0; 3], spans: vec![(0, 5), (5, 6), (6, 7)], labelled: vec![true; 3] };
        let got = decode(text, &units, &[1, 3, 3], false, &Mwt::default());
        assert_eq!(got.len(), 1);
    }

    #[test]
    fn abbreviations_before_lowercase_or_digits_do_not_end_sentences() {
        let yes = |t: &str, next: char| abbreviation_continues(&t.chars().collect::<Vec<_>>(), Some(next));
        assert!(yes("αριθ.", '2'));
        assert!(yes("ரூ.", '6'));
        assert!(yes("odst.", 'p'));
        assert!(!yes("odst.", 'P'), "a capital may start a sentence");
        assert!(!yes("později.", 'p'), "longer than an abbreviation: a word with its period glued on");
        assert!(!yes(".", '5'), "a period alone ends sentences before numbers");
        assert!(!yes("58.", '3'), "a number and its period may end a sentence before a list item");
        assert!(!yes("...", 'a'));
        assert!(!abbreviation_continues(&['č', '.'], None));
    }

    #[test]
    fn spaces_round_trip() {
        for s in [" ", "  ", "\n\n", "\t \r\n", "\u{a0}", "a|b\\"] {
            assert_eq!(unescape_spaces(&escape_spaces(s)), s);
        }
        assert_eq!(escape_spaces("\n\n"), "\\n\\n");
    }
}
