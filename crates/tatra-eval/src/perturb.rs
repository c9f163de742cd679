//! Deterministic perturbation of a gold document into a "system" document, for testing
//! the evaluator against the official one on many kinds of disagreement: labels, heads,
//! sentence boundaries, token boundaries and multi-word tokens. The result is always
//! valid CoNLL-U (every sentence a tree with one root) with the same characters as the
//! gold file, so the official evaluator accepts the pair.

use tatra_core::{Document, Sentence, Token, UNSPECIFIED, Word, document::misc_set};

/// How often each kind of change happens (probabilities per word, token or sentence).
#[derive(Debug, Clone, Copy, Default)]
pub struct Perturbation {
    pub seed: u64,
    /// Per word: change one of UPOS, XPOS, FEATS, LEMMA, DEPREL or DEPS.
    pub labels: f64,
    /// Per word: attach to another word.
    pub heads: f64,
    /// Per sentence: merge with the next one, or split in two.
    pub sentences: f64,
    /// Per token: merge with the next token, or split in two.
    pub tokens: f64,
    /// Per token: collapse a multi-word token, make a token a multi-word token, or
    /// change the forms of its words.
    pub mwt: f64,
}

use tatra_core::rng::SplitMix64 as Rng;

const UPOS: [&str; 17] = [
    "ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM", "PART", "PRON", "PROPN",
    "PUNCT", "SCONJ", "SYM", "VERB", "X",
];
const DEPRELS: [&str; 14] = [
    "nsubj", "obj", "obl", "advmod", "amod", "nmod", "det", "case", "cc", "conj", "mark", "aux",
    "punct", "nmod:poss",
];

/// A word under construction: `orig` are the gold IDs it stands for, `head` a gold ID.
#[derive(Clone)]
struct W {
    word: Word,
    orig: Vec<usize>,
    head: usize,
}

#[derive(Clone)]
struct T {
    form: String,
    misc: String,
    range_columns: Vec<String>,
    words: Vec<W>,
}

struct S {
    comments: Vec<String>,
    tokens: Vec<T>,
    original: Sentence,
    changed: bool,
}

fn to_s(s: &Sentence) -> S {
    let tokens = s
        .tokens
        .iter()
        .map(|t| T {
            form: t.form.clone(),
            misc: t.misc.clone(),
            range_columns: t.range_columns.clone(),
            words: t.words.iter().map(|w| W { word: w.clone(), orig: vec![w.id], head: w.head.unwrap_or(0) }).collect(),
        })
        .collect();
    S { comments: s.comments.clone(), tokens, original: s.clone(), changed: false }
}

/// Makes heads a tree with one root: extra roots and cycles are attached to the root.
fn repair_tree(heads: &mut [usize]) {
    let n = heads.len();
    for h in heads.iter_mut() {
        if *h > n {
            *h = 0;
        }
    }
    let root = heads.iter().position(|&h| h == 0).unwrap_or(0);
    heads[root] = 0;
    for (i, h) in heads.iter_mut().enumerate() {
        if i != root && *h == 0 {
            *h = root + 1;
        }
    }
    loop {
        let opt: Vec<Option<usize>> = heads.iter().map(|&h| Some(h)).collect();
        match tatra_core::conllu::find_cycle(&opt) {
            Some(cycle) => {
                let c = cycle.into_iter().find(|&c| c != root).unwrap_or(0);
                heads[c] = root + 1;
            }
            None => break,
        }
    }
}

fn finish(s: S) -> Sentence {
    if !s.changed {
        // Labels and heads may have changed, but not the structure.
        let mut out = s.original.clone();
        for (t, nt) in out.tokens.iter_mut().zip(&s.tokens) {
            for (w, nw) in t.words.iter_mut().zip(&nt.words) {
                *w = nw.word.clone();
                w.head = Some(nw.head);
            }
        }
        let mut heads: Vec<usize> = out.words().map(|w| w.head.unwrap_or(0)).collect();
        repair_tree(&mut heads);
        fix_deprels(&mut out, &heads);
        return out;
    }
    let mut map = std::collections::HashMap::new();
    let mut id = 0;
    for t in &s.tokens {
        for w in &t.words {
            id += 1;
            for &o in &w.orig {
                map.insert(o, id);
            }
        }
    }
    let mut heads = Vec::new();
    let mut id = 0;
    for t in &s.tokens {
        for w in &t.words {
            id += 1;
            let h = if w.head == 0 { 0 } else { map.get(&w.head).copied().unwrap_or(0) };
            heads.push(if h == id { 0 } else { h });
        }
    }
    repair_tree(&mut heads);
    let mut out = Sentence { comments: s.comments, ..Default::default() };
    let mut id = 0;
    for t in s.tokens {
        let mut words = Vec::new();
        for w in t.words {
            id += 1;
            let mut word = w.word;
            word.id = id;
            word.deps = UNSPECIFIED.to_string();
            words.push(word);
        }
        let misc = if words.len() > 1 { t.misc } else { UNSPECIFIED.to_string() };
        out.tokens.push(Token { form: t.form, words, misc, range_columns: t.range_columns, span: None });
    }
    fix_deprels(&mut out, &heads);
    out
}

fn fix_deprels(out: &mut Sentence, heads: &[usize]) {
    for (w, &h) in out.words_mut().zip(heads) {
        w.head = Some(h);
        if h == 0 {
            w.deprel = "root".to_string();
        } else if w.deprel == "root" {
            w.deprel = "dep".to_string();
        }
    }
}

fn change_label(rng: &mut Rng, w: &mut W) {
    let word = &mut w.word;
    match rng.below(6) {
        0 => word.upos = UPOS[rng.below(UPOS.len())].to_string(),
        1 => word.xpos = if word.xpos == UNSPECIFIED { "X".into() } else { format!("{}x", word.xpos) },
        2 => {
            let feats: Vec<&str> = word.feats.split('|').filter(|f| *f != UNSPECIFIED).collect();
            word.feats = match feats.len() {
                0 => "Number=Sing".to_string(),
                1 => UNSPECIFIED.to_string(),
                n => {
                    let drop = rng.below(n);
                    feats.iter().enumerate().filter(|(i, _)| *i != drop).map(|(_, f)| *f).collect::<Vec<_>>().join("|")
                }
            }
        }
        3 => {
            word.lemma = match rng.below(3) {
                0 => word.form.clone(),
                1 => word.lemma.to_uppercase(),
                _ => UNSPECIFIED.to_string(),
            }
        }
        4 => word.deprel = DEPRELS[rng.below(DEPRELS.len())].to_string(),
        _ => word.deps = format!("{}:{}", w.head, word.deprel),
    }
}

/// Splits `form` at a character boundary into two non-empty parts, if it has two chars.
fn split_form(rng: &mut Rng, form: &str) -> Option<(String, String)> {
    let chars: Vec<char> = form.chars().collect();
    if chars.len() < 2 {
        return None;
    }
    let at = 1 + rng.below(chars.len() - 1);
    let (a, b): (String, String) = (chars[..at].iter().collect(), chars[at..].iter().collect());
    (!a.trim().is_empty() && !b.trim().is_empty()).then_some((a, b))
}

fn token_space_misc(t: &T) -> &str {
    if t.words.len() > 1 { &t.misc } else { &t.words[0].word.misc }
}

fn perturb_tokens(rng: &mut Rng, s: &mut S, p: &Perturbation) {
    let mut i = 0;
    while i < s.tokens.len() {
        if p.tokens > 0.0 && rng.chance(p.tokens) {
            let single = s.tokens[i].words.len() == 1;
            if rng.below(2) == 0 && single && i + 1 < s.tokens.len() && s.tokens[i + 1].words.len() == 1 {
                // Merge token i and i+1 into one one-word token.
                let next = s.tokens.remove(i + 1);
                let t = &mut s.tokens[i];
                let spaced = !token_space_misc(t).contains("SpaceAfter=No");
                let form = format!("{}{}{}", t.form, if spaced { " " } else { "" }, next.form);
                let nw = &next.words[0];
                let w = &mut t.words[0];
                w.orig.extend(nw.orig.iter().copied());
                if w.orig.contains(&w.head) {
                    w.head = nw.head;
                }
                w.word.form = form.clone();
                w.word.misc = nw.word.misc.clone();
                t.form = form;
                s.changed = true;
            } else if single {
                if let Some((a, b)) = split_form(rng, &s.tokens[i].form) {
                    let mut second = s.tokens[i].clone();
                    let t = &mut s.tokens[i];
                    let first_id = t.words[0].orig.first().copied().unwrap_or(0);
                    t.form = a.clone();
                    t.words[0].word.form = a;
                    t.words[0].word.misc = misc_set(&t.words[0].word.misc, "SpaceAfter", Some("No"));
                    second.form = b.clone();
                    second.words[0].word.form = b;
                    second.words[0].orig.clear();
                    second.words[0].head = first_id;
                    second.words[0].word.deprel = "flat".to_string();
                    s.tokens.insert(i + 1, second);
                    s.changed = true;
                    i += 1;
                }
            }
        }
        i += 1;
    }
}

fn perturb_mwt(rng: &mut Rng, s: &mut S, p: &Perturbation) {
    for t in &mut s.tokens {
        if !rng.chance(p.mwt) {
            continue;
        }
        if t.words.len() > 1 {
            if rng.below(2) == 0 {
                // Collapse into a single word.
                let mut words = std::mem::take(&mut t.words);
                let orig: Vec<usize> = words.iter().flat_map(|w| w.orig.iter().copied()).collect();
                let head = words.iter().map(|w| w.head).find(|h| !orig.contains(h)).unwrap_or(0);
                let mut w = words.swap_remove(0);
                w.orig = orig;
                w.head = head;
                w.word.form = t.form.clone();
                w.word.misc = t.misc.clone();
                t.words = vec![w];
                t.misc = UNSPECIFIED.to_string();
                t.range_columns.clear();
            } else {
                // Change the form of one word (the LCS alignment then skips it).
                let k = rng.below(t.words.len());
                let f = &mut t.words[k].word.form;
                *f = if rng.below(2) == 0 { f.to_uppercase() } else { format!("{f}x") };
            }
            s.changed = true;
        } else if let Some((a, b)) = split_form(rng, &t.form) {
            // Make a two-word multi-word token.
            let mut w1 = t.words[0].clone();
            let mut w2 = w1.clone();
            let first = w1.orig.first().copied().unwrap_or(0);
            t.misc = w1.word.misc.clone();
            w1.word.form = a.to_lowercase();
            w1.word.misc = UNSPECIFIED.to_string();
            w2.word.form = b;
            w2.word.misc = UNSPECIFIED.to_string();
            w2.orig.clear();
            w2.head = first;
            w2.word.deprel = "case".to_string();
            t.words = vec![w1, w2];
            t.range_columns = vec![UNSPECIFIED.to_string(); 7];
            s.changed = true;
        }
    }
}

/// Applies the perturbation to a gold document.
pub fn perturb(doc: &Document, p: &Perturbation) -> Document {
    let mut rng = Rng(p.seed);
    let mut sents: Vec<S> = doc.sentences.iter().map(to_s).collect();

    // Sentence boundaries first (IDs are offset so they stay unique within a merge).
    let mut out: Vec<S> = Vec::new();
    let mut iter = sents.drain(..).peekable();
    while let Some(mut s) = iter.next() {
        if rng.chance(p.sentences) {
            if rng.below(2) == 0 {
                if let Some(mut next) = iter.next() {
                    let offset = s.tokens.iter().map(|t| t.words.len()).sum::<usize>();
                    for t in &mut next.tokens {
                        for w in &mut t.words {
                            w.orig = w.orig.iter().map(|o| o + offset).collect();
                            w.head = if w.head == 0 { 0 } else { w.head + offset };
                        }
                    }
                    s.tokens.extend(next.tokens);
                    s.changed = true;
                }
            } else if s.tokens.len() >= 2 {
                let at = 1 + rng.below(s.tokens.len() - 1);
                let rest = s.tokens.split_off(at);
                s.changed = true;
                out.push(s);
                s = S { comments: Vec::new(), tokens: rest, original: Sentence::default(), changed: true };
            }
        }
        out.push(s);
    }

    for s in &mut out {
        perturb_tokens(&mut rng, s, p);
        if p.mwt > 0.0 {
            perturb_mwt(&mut rng, s, p);
        }
        let ids: Vec<usize> = s.tokens.iter().flat_map(|t| t.words.iter().flat_map(|w| w.orig.iter().copied())).collect();
        for t in &mut s.tokens {
            for w in &mut t.words {
                if rng.chance(p.heads) && w.head != 0 && !ids.is_empty() {
                    w.head = ids[rng.below(ids.len())];
                }
                if rng.chance(p.labels) {
                    change_label(&mut rng, w);
                }
            }
        }
    }
    Document { sentences: out.into_iter().map(finish).collect(), text: None }
}

/// The gold/system pairs whose official scores are committed as test fixtures:
/// (name, gold file under `shared/ud`, perturbation).
pub fn fixture_pairs() -> Vec<(&'static str, &'static str, Perturbation)> {
    let p = |seed: u64, labels: f64, heads: f64, sentences: f64, tokens: f64, mwt: f64| Perturbation {
        seed,
        labels,
        heads,
        sentences,
        tokens,
        mwt,
    };
    vec![
        ("zh_gsd-labels", "UD_Chinese-GSD/zh_gsd-ud-dev.conllu", p(1, 0.1, 0.0, 0.0, 0.0, 0.0)),
        ("zh_gsd-tokens", "UD_Chinese-GSD/zh_gsd-ud-dev.conllu", p(2, 0.0, 0.0, 0.0, 0.1, 0.0)),
        ("zh_gsd-sentences-heads", "UD_Chinese-GSD/zh_gsd-ud-dev.conllu", p(3, 0.0, 0.1, 0.1, 0.0, 0.0)),
        ("tr_imst-mwt", "UD_Turkish-IMST/tr_imst-ud-dev.conllu", p(4, 0.0, 0.0, 0.0, 0.0, 0.3)),
        ("tr_imst-mixed", "UD_Turkish-IMST/tr_imst-ud-dev.conllu", p(5, 0.1, 0.0, 0.0, 0.05, 0.2)),
        ("tr_imst-heads", "UD_Turkish-IMST/tr_imst-ud-dev.conllu", p(6, 0.0, 0.2, 0.0, 0.0, 0.0)),
        ("fr_sequoia-mwt", "UD_French-Sequoia/fr_sequoia-ud-dev.conllu", p(7, 0.0, 0.0, 0.0, 0.0, 0.3)),
        ("fr_sequoia-all", "UD_French-Sequoia/fr_sequoia-ud-dev.conllu", p(8, 0.1, 0.1, 0.1, 0.05, 0.1)),
        ("fr_sequoia-sentences", "UD_French-Sequoia/fr_sequoia-ud-dev.conllu", p(9, 0.0, 0.0, 0.2, 0.0, 0.0)),
        ("en_lines-labels", "UD_English-LinES/en_lines-ud-dev.conllu", p(10, 0.3, 0.0, 0.0, 0.0, 0.0)),
        ("en_lines-heads-labels", "UD_English-LinES/en_lines-ud-dev.conllu", p(11, 0.1, 0.3, 0.0, 0.0, 0.0)),
        ("cs_cltt-labels", "UD_Czech-CLTT/cs_cltt-ud-dev.conllu", p(12, 0.2, 0.0, 0.0, 0.0, 0.0)),
        ("cs_cltt-tokens-sentences", "UD_Czech-CLTT/cs_cltt-ud-dev.conllu", p(13, 0.0, 0.0, 0.05, 0.05, 0.0)),
        ("ta_ttb-mwt-heads", "UD_Tamil-TTB/ta_ttb-ud-dev.conllu", p(14, 0.0, 0.1, 0.0, 0.0, 0.3)),
        ("vi_vtb-tokens", "UD_Vietnamese-VTB/vi_vtb-ud-dev.conllu", p(15, 0.0, 0.0, 0.0, 0.1, 0.0)),
        ("vi_vtb-labels-sentences", "UD_Vietnamese-VTB/vi_vtb-ud-dev.conllu", p(16, 0.2, 0.0, 0.1, 0.0, 0.0)),
        ("ja_gsd-tokens-labels", "UD_Japanese-GSD/ja_gsd-ud-dev.conllu", p(17, 0.1, 0.0, 0.0, 0.1, 0.0)),
        ("el_gdt-mwt-labels", "UD_Greek-GDT/el_gdt-ud-dev.conllu", p(18, 0.2, 0.0, 0.0, 0.0, 0.2)),
        ("sk_snk-all", "UD_Slovak-SNK/sk_snk-ud-dev.conllu", p(19, 0.05, 0.05, 0.05, 0.05, 0.05)),
        ("en_ewt-mwt-labels", "UD_English-EWT/en_ewt-ud-dev.conllu", p(20, 0.1, 0.0, 0.0, 0.0, 0.2)),
        ("hu_szeged-identical", "UD_Hungarian-Szeged/hu_szeged-ud-dev.conllu", p(21, 0.0, 0.0, 0.0, 0.0, 0.0)),
        ("de_gsd-heavy", "UD_German-GSD/de_gsd-ud-dev.conllu", p(22, 0.3, 0.3, 0.3, 0.3, 0.3)),
        ("id_gsd-mwt-tokens", "UD_Indonesian-GSD/id_gsd-ud-dev.conllu", p(23, 0.0, 0.0, 0.0, 0.1, 0.3)),
        ("sv_talbanken-labels-heads", "UD_Swedish-Talbanken/sv_talbanken-ud-dev.conllu", p(24, 0.2, 0.2, 0.0, 0.0, 0.0)),
    ]
}
