//! tatra-eval owns evaluation against gold CoNLL-U: the CoNLL 2018 shared-task metrics
//! (Tokens, Sentences, Words, UPOS, XPOS, UFeats, AllTags, Lemmas, UAS, LAS, CLAS, MLAS,
//! BLEX) and the IWPT 2020 enhanced-graph metrics (ELAS, EULAS), computed exactly as the
//! official evaluator (`conll18_ud_eval.py`, shipped today as `udeval` in `udtools`):
//!
//! - tokens are aligned by character offsets in the concatenation of all token forms,
//!   with every Unicode space (category Zs) removed;
//! - words inside multi-word tokens are aligned by an LCS over lower-cased forms within
//!   the smallest "multi-word span" that contains every overlapping multi-word token;
//! - DEPREL subtypes are stripped, UFeats keeps only the universal features (sorted),
//!   CLAS/MLAS/BLEX count only content relations, MLAS adds the functional children,
//!   and lemmas count as correct where the gold lemma is `_`.
//!
//! It reads files through `tatra_core`'s validating reader, so a malformed file is an
//! error that names its file and line.
//!
//! The `perturb` module makes gold/system pairs for tests.

pub mod perturb;

use std::collections::HashMap;
use std::path::Path;

use serde::Serialize;
use tatra_core::{ConlluError, Document, Reader, Sentence};

/// The metrics in the order of the official table.
pub const METRICS: [&str; 15] = [
    "Tokens", "Sentences", "Words", "UPOS", "XPOS", "UFeats", "AllTags", "Lemmas", "UAS", "LAS",
    "CLAS", "MLAS", "BLEX", "ELAS", "EULAS",
];

const CONTENT_DEPRELS: [&str; 29] = [
    "nsubj", "obj", "iobj", "csubj", "ccomp", "xcomp", "obl", "vocative", "expl", "dislocated",
    "advcl", "advmod", "discourse", "nmod", "appos", "nummod", "acl", "amod", "conj", "fixed",
    "flat", "compound", "list", "parataxis", "orphan", "goeswith", "reparandum", "root", "dep",
];
const FUNCTIONAL_DEPRELS: [&str; 7] = ["aux", "cop", "mark", "det", "clf", "case", "cc"];
const UNIVERSAL_FEATURES: [&str; 21] = [
    "PronType", "NumType", "Poss", "Reflex", "Foreign", "Abbr", "Gender", "Animacy", "Number",
    "Case", "Definite", "Degree", "VerbForm", "Mood", "Tense", "Aspect", "Voice", "Evident",
    "Polarity", "Person", "Polite",
];

/// Why an evaluation could not be done.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error(transparent)]
    Conllu(#[from] ConlluError),
    #[error("{0}")]
    Data(String),
}

/// One metric's counts and ratios (ratios in [0, 1]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Score {
    pub correct: usize,
    pub gold_total: usize,
    pub system_total: usize,
    pub aligned_total: Option<usize>,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub aligned_accuracy: Option<f64>,
}

impl Score {
    fn new(gold_total: usize, system_total: usize, correct: usize, aligned_total: Option<usize>) -> Self {
        let ratio = |a: usize, b: usize| if b > 0 { a as f64 / b as f64 } else { 0.0 };
        Score {
            correct,
            gold_total,
            system_total,
            aligned_total,
            precision: ratio(correct, system_total),
            recall: ratio(correct, gold_total),
            f1: ratio(2 * correct, system_total + gold_total),
            aligned_accuracy: aligned_total.map(|a| ratio(correct, a)),
        }
    }
}

/// All metrics of one evaluation, by name.
#[derive(Debug, Clone)]
pub struct Evaluation {
    pub scores: Vec<(&'static str, Score)>,
}

impl Evaluation {
    /// The score of a metric by its printed name ("UPOS", "LAS", …).
    pub fn get(&self, metric: &str) -> Option<&Score> {
        self.scores.iter().find(|(m, _)| *m == metric).map(|(_, s)| s)
    }

    /// The official verbose table (`udeval -v`); `enhanced` adds ELAS and EULAS as
    /// `udeval` does by default.
    pub fn table(&self, enhanced: bool) -> String {
        self.render("Metric     | Precision |    Recall |  F1 Score | AligndAcc", enhanced, |m, s| {
            let acc = s.aligned_accuracy.map_or(String::new(), |a| format!("{:10.2}", 100.0 * a));
            format!("{:11}|{:10.2} |{:10.2} |{:10.2} |{}", m, 100.0 * s.precision, 100.0 * s.recall, 100.0 * s.f1, acc)
        })
    }

    /// The raw counts table (`udeval -v -c`).
    pub fn counts_table(&self, enhanced: bool) -> String {
        self.render("Metric     | Correct   |      Gold | Predicted | Aligned", enhanced, |m, s| {
            let aligned = match s.aligned_total {
                Some(a) if a > 0 => format!("{a:10}"),
                _ if m == "Words" => format!("{:10}", s.correct),
                _ => format!("{:10}", ""),
            };
            format!("{:11}|{:10} |{:10} |{:10} |{}", m, s.correct, s.gold_total, s.system_total, aligned)
        })
    }

    /// A table: header, rule, one row per metric (ELAS/EULAS only when `enhanced`).
    fn render(&self, header: &str, enhanced: bool, row: impl Fn(&str, &Score) -> String) -> String {
        let mut lines = vec![header.to_string(), "-----------+-----------+-----------+-----------+-----------".to_string()];
        for (m, s) in &self.scores {
            if enhanced || !is_enhanced(m) {
                lines.push(row(m, s));
            }
        }
        lines.join("\n")
    }

    /// The figures as JSON: `{"UPOS": {"precision": 97.12, "recall": …, "f1": …,
    /// "aligned_accuracy": …}, …}`, in percent, rounded to the two decimals of the table.
    pub fn to_json(&self, enhanced: bool) -> serde_json::Value {
        let pct = |x: f64| -> serde_json::Value {
            format!("{:.2}", 100.0 * x).parse::<f64>().map_or(serde_json::Value::Null, serde_json::Value::from)
        };
        let mut map = serde_json::Map::new();
        for (m, s) in &self.scores {
            if !enhanced && is_enhanced(m) {
                continue;
            }
            let mut o = serde_json::Map::new();
            o.insert("precision".into(), pct(s.precision));
            o.insert("recall".into(), pct(s.recall));
            o.insert("f1".into(), pct(s.f1));
            o.insert("aligned_accuracy".into(), s.aligned_accuracy.map_or(serde_json::Value::Null, pct));
            map.insert(m.to_string(), serde_json::Value::Object(o));
        }
        serde_json::Value::Object(map)
    }
}

fn is_enhanced(metric: &str) -> bool {
    metric == "ELAS" || metric == "EULAS"
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Span {
    start: usize,
    end: usize,
}

/// A head in the enhanced graph: the root or a word (index into `Rep::words`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum EHead {
    Root,
    Word(usize),
}

struct EvalWord {
    span: Span,
    is_multiword: bool,
    form_lower: String,
    lemma: String,
    upos: String,
    xpos: String,
    feats: String,
    deprel: String,
    is_content: bool,
    is_functional: bool,
    parent: Option<usize>,
    functional_children: Vec<usize>,
    deps: Vec<(EHead, Vec<String>)>,
}

/// A file as the evaluator sees it.
struct Rep {
    characters: Vec<char>,
    tokens: Vec<Span>,
    words: Vec<EvalWord>,
    sentences: Vec<Span>,
    path: String,
}

fn is_zs(c: char) -> bool {
    matches!(c, '\u{20}' | '\u{a0}' | '\u{1680}' | '\u{2000}'..='\u{200a}' | '\u{202f}' | '\u{205f}' | '\u{3000}')
}

fn universal_feats(feats: &str) -> String {
    let mut kept: Vec<&str> = feats
        .split('|')
        .filter(|f| UNIVERSAL_FEATURES.contains(&f.split('=').next().unwrap_or("")))
        .collect();
    kept.sort_unstable();
    kept.join("|")
}

impl Rep {
    fn new(path: &str) -> Self {
        Rep { characters: Vec::new(), tokens: Vec::new(), words: Vec::new(), sentences: Vec::new(), path: path.to_string() }
    }

    fn add_sentence(&mut self, sent: &Sentence, line: usize) -> Result<(), EvalError> {
        let sentence_start = self.words.len();
        let start_char = self.characters.len();
        for token in &sent.tokens {
            let form: Vec<char> = token.form.chars().filter(|&c| !is_zs(c)).collect();
            if form.is_empty() {
                return Err(EvalError::Data(format!(
                    "{}: sentence ending near line {line}: a token whose FORM is empty once spaces are removed",
                    self.path
                )));
            }
            let span = Span { start: self.characters.len(), end: self.characters.len() + form.len() };
            self.characters.extend(form);
            self.tokens.push(span);
            for w in &token.words {
                let Some(_) = w.head else {
                    return Err(EvalError::Data(format!(
                        "{}: sentence ending near line {line}: word {} has no HEAD (`_`); the evaluator needs parsed input",
                        self.path, w.id
                    )));
                };
                let deprel = w.deprel.split(':').next().unwrap_or("").to_string();
                self.words.push(EvalWord {
                    span,
                    is_multiword: token.is_mwt(),
                    form_lower: w.form.to_lowercase(),
                    lemma: w.lemma.clone(),
                    upos: w.upos.clone(),
                    xpos: w.xpos.clone(),
                    feats: universal_feats(&w.feats),
                    is_content: CONTENT_DEPRELS.contains(&deprel.as_str()),
                    is_functional: FUNCTIONAL_DEPRELS.contains(&deprel.as_str()),
                    deprel,
                    parent: None,
                    functional_children: Vec::new(),
                    deps: Vec::new(),
                });
            }
        }
        let n = self.words.len() - sentence_start;
        for (i, w) in sent.words().enumerate() {
            let idx = sentence_start + i;
            let head = w.head.unwrap_or(0);
            self.words[idx].parent = (head > 0).then(|| sentence_start + head - 1);
            if w.deps != "_" && !w.deps.is_empty() {
                for edep in w.deps.split('|') {
                    let Some((hd, path)) = edep.split_once(':') else {
                        return Err(EvalError::Data(format!(
                            "{}: sentence ending near line {line}: bad DEPS item '{edep}' of word {}",
                            self.path, w.id
                        )));
                    };
                    if hd.contains('.') {
                        continue; // edges to empty nodes are skipped, as the official evaluator does
                    }
                    let h: usize = hd.parse().map_err(|_| {
                        EvalError::Data(format!(
                            "{}: sentence ending near line {line}: bad DEPS head '{hd}' of word {}",
                            self.path, w.id
                        ))
                    })?;
                    if h > n {
                        return Err(EvalError::Data(format!(
                            "{}: sentence ending near line {line}: DEPS head {h} of word {} is outside the sentence",
                            self.path, w.id
                        )));
                    }
                    let head = if h == 0 { EHead::Root } else { EHead::Word(sentence_start + h - 1) };
                    self.words[idx].deps.push((head, path.split('>').map(str::to_string).collect()));
                }
            }
        }
        for idx in sentence_start..self.words.len() {
            if let Some(p) = self.words[idx].parent {
                if self.words[idx].is_functional {
                    self.words[p].functional_children.push(idx);
                }
            }
        }
        self.sentences.push(Span { start: start_char, end: self.characters.len() });
        Ok(())
    }
}

fn load<R: std::io::BufRead>(reader: Reader<R>, path: &str) -> Result<Rep, EvalError> {
    let mut rep = Rep::new(path);
    for (i, sent) in reader.enumerate() {
        rep.add_sentence(&sent?, i + 1)?;
    }
    Ok(rep)
}

fn load_doc(doc: &Document, name: &str) -> Result<Rep, EvalError> {
    let mut rep = Rep::new(name);
    for (i, s) in doc.sentences.iter().enumerate() {
        rep.add_sentence(s, i + 1)?;
    }
    Ok(rep)
}

/// Evaluates a system file against a gold file.
pub fn evaluate_files(gold: impl AsRef<Path>, system: impl AsRef<Path>) -> Result<Evaluation, EvalError> {
    let (g, s) = (gold.as_ref(), system.as_ref());
    let gold = load(Reader::open(g)?, &g.display().to_string())?;
    let system = load(Reader::open(s)?, &s.display().to_string())?;
    evaluate_reps(&gold, &system)
}

/// Evaluates in-memory documents.
pub fn evaluate_documents(gold: &Document, system: &Document) -> Result<Evaluation, EvalError> {
    evaluate_reps(&load_doc(gold, "gold")?, &load_doc(system, "system")?)
}

struct Alignment {
    /// (gold word, system word) pairs in order.
    matched: Vec<(usize, usize)>,
    /// system word -> gold word.
    map: HashMap<usize, usize>,
}

/// What a head resolves to in gold-word terms.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Key {
    Root,
    Gold(usize),
    NotAligned,
}

fn spans_score(gold: &[Span], system: &[Span]) -> Score {
    let (mut correct, mut gi, mut si) = (0, 0, 0);
    while gi < gold.len() && si < system.len() {
        if system[si].start < gold[gi].start {
            si += 1;
        } else if gold[gi].start < system[si].start {
            gi += 1;
        } else {
            correct += usize::from(gold[gi].end == system[si].end);
            si += 1;
            gi += 1;
        }
    }
    Score::new(gold.len(), system.len(), correct, None)
}

fn beyond_end(words: &[EvalWord], i: usize, end: usize) -> bool {
    if i >= words.len() {
        return true;
    }
    if words[i].is_multiword {
        words[i].span.start >= end
    } else {
        words[i].span.end > end
    }
}

fn extend_end(w: &EvalWord, end: usize) -> usize {
    if w.is_multiword && w.span.end > end { w.span.end } else { end }
}

fn find_multiword_span(g: &[EvalWord], s: &[EvalWord], mut gi: usize, mut si: usize) -> (usize, usize, usize, usize) {
    let mut end;
    if g[gi].is_multiword {
        end = g[gi].span.end;
        if !s[si].is_multiword && s[si].span.start < g[gi].span.start {
            si += 1;
        }
    } else {
        end = s[si].span.end;
        if !g[gi].is_multiword && g[gi].span.start < s[si].span.start {
            gi += 1;
        }
    }
    let (gs, ss) = (gi, si);
    while !beyond_end(g, gi, end) || !beyond_end(s, si, end) {
        if gi < g.len() && (si >= s.len() || g[gi].span.start <= s[si].span.start) {
            end = extend_end(&g[gi], end);
            gi += 1;
        } else {
            end = extend_end(&s[si], end);
            si += 1;
        }
    }
    (gs, ss, gi, si)
}

fn align_words(g: &[EvalWord], s: &[EvalWord]) -> Alignment {
    let mut al = Alignment { matched: Vec::new(), map: HashMap::new() };
    let push = |al: &mut Alignment, gw: usize, sw: usize| {
        al.matched.push((gw, sw));
        al.map.insert(sw, gw);
    };
    let (mut gi, mut si) = (0, 0);
    while gi < g.len() && si < s.len() {
        if g[gi].is_multiword || s[si].is_multiword {
            let (gs, ss, ge, se) = find_multiword_span(g, s, gi, si);
            gi = ge;
            si = se;
            if si > ss && gi > gs {
                let (ng, ns) = (gi - gs, si - ss);
                // lcs[x][y]: LCS of gold[gs+x..gi] and system[ss+y..si]; one extra row/column of 0.
                let mut lcs = vec![vec![0usize; ns + 1]; ng + 1];
                for x in (0..ng).rev() {
                    for y in (0..ns).rev() {
                        let mut v = 0;
                        if g[gs + x].form_lower == s[ss + y].form_lower {
                            v = 1 + lcs[x + 1][y + 1];
                        }
                        v = v.max(lcs[x + 1][y]).max(lcs[x][y + 1]);
                        lcs[x][y] = v;
                    }
                }
                let (mut x, mut y) = (0, 0);
                while x < ng && y < ns {
                    if g[gs + x].form_lower == s[ss + y].form_lower {
                        push(&mut al, gs + x, ss + y);
                        x += 1;
                        y += 1;
                    } else if lcs[x][y] == lcs[x + 1][y] {
                        x += 1;
                    } else {
                        y += 1;
                    }
                }
            }
        } else if g[gi].span == s[si].span {
            push(&mut al, gi, si);
            gi += 1;
            si += 1;
        } else if g[gi].span.start <= s[si].span.start {
            gi += 1;
        } else {
            si += 1;
        }
    }
    al
}

fn first_difference(gold: &Rep, system: &Rep) -> String {
    let index = gold.characters.iter().zip(&system.characters).take_while(|(a, b)| a == b).count();
    let report = |rep: &Rep| -> String {
        let ti = rep.tokens.iter().take_while(|t| t.end <= index).count();
        let from = ti.saturating_sub(10);
        let to = (ti + 10).min(rep.tokens.len());
        let show = |r: std::ops::Range<usize>| -> String {
            rep.tokens[r].iter().map(|t| rep.characters[t.start..t.end].iter().collect::<String>()).collect::<Vec<_>>().join(" ")
        };
        format!(
            "File '{}': token no. {ti} is the last one with all characters reproduced in the other file; the previous tokens are '{}', the next '{}'.\n",
            rep.path,
            show(from..ti),
            show(ti..to)
        )
    };
    let snippet = |rep: &Rep| -> String { rep.characters.iter().skip(index).take(20).collect() };
    format!(
        "The concatenation of tokens in gold file and in system file differ!\n{}{}First 20 differing characters in gold file: '{}' and system file: '{}'",
        report(gold),
        report(system),
        snippet(gold),
        snippet(system)
    )
}

fn evaluate_reps(gold: &Rep, system: &Rep) -> Result<Evaluation, EvalError> {
    if gold.characters != system.characters {
        return Err(EvalError::Data(first_difference(gold, system)));
    }
    let (g, s) = (&gold.words, &system.words);
    let al = align_words(g, s);

    let gold_key = |w: &EvalWord| w.parent.map_or(Key::Root, Key::Gold);
    let sys_key = |w: &EvalWord| match w.parent {
        None => Key::Root,
        Some(p) => al.map.get(&p).map_or(Key::NotAligned, |&x| Key::Gold(x)),
    };
    let sys_child = |c: usize| al.map.get(&c).map_or(Key::NotAligned, |&x| Key::Gold(x));

    // Counts over gold, system and aligned words (optionally only content relations),
    // and how many aligned pairs agree on `same`.
    let score = |content_only: bool, same: &dyn Fn(&EvalWord, &EvalWord) -> bool| -> Score {
        let keep = |w: &EvalWord| !content_only || w.is_content;
        let gold_n = g.iter().filter(|w| keep(w)).count();
        let sys_n = s.iter().filter(|w| keep(w)).count();
        let mut aligned = 0;
        let mut correct = 0;
        for &(gw, sw) in &al.matched {
            if keep(&g[gw]) {
                aligned += 1;
                if same(&g[gw], &s[sw]) {
                    correct += 1;
                }
            }
        }
        Score::new(gold_n, sys_n, correct, Some(aligned))
    };
    let lemma_ok = |gw: &EvalWord, sw: &EvalWord| gw.lemma == "_" || gw.lemma == sw.lemma;
    let children_ok = |gw: &EvalWord, sw: &EvalWord| {
        gw.functional_children.len() == sw.functional_children.len()
            && gw.functional_children.iter().zip(&sw.functional_children).all(|(&gc, &sc)| {
                let (a, b) = (&g[gc], &s[sc]);
                Key::Gold(gc) == sys_child(sc) && a.deprel == b.deprel && a.upos == b.upos && a.feats == b.feats
            })
    };
    let las = |gw: &EvalWord, sw: &EvalWord| gold_key(gw) == sys_key(sw) && gw.deprel == sw.deprel;

    let enhanced = |eulas: bool| -> Score {
        let gold_n = g.iter().map(|w| w.deps.len()).sum();
        let sys_n = s.iter().map(|w| w.deps.len()).sum();
        let mut correct = 0;
        for &(gw, sw) in &al.matched {
            for (gp, gpath) in &g[gw].deps {
                for (sp, spath) in &s[sw].deps {
                    let same_label = gpath == spath
                        || (eulas
                            && gpath.len() == spath.len()
                            && gpath.iter().zip(spath).all(|(a, b)| a.split(':').next() == b.split(':').next()));
                    if !same_label {
                        continue;
                    }
                    let ok = match (gp, sp) {
                        (EHead::Word(gh), EHead::Word(sh)) => al.map.get(sh) == Some(gh),
                        (EHead::Root, EHead::Root) => true,
                        _ => false,
                    };
                    correct += usize::from(ok);
                }
            }
        }
        Score::new(gold_n, sys_n, correct, None)
    };

    let scores = vec![
        ("Tokens", spans_score(&gold.tokens, &system.tokens)),
        ("Sentences", spans_score(&gold.sentences, &system.sentences)),
        ("Words", Score::new(g.len(), s.len(), al.matched.len(), None)),
        ("UPOS", score(false, &|a, b| a.upos == b.upos)),
        ("XPOS", score(false, &|a, b| a.xpos == b.xpos)),
        ("UFeats", score(false, &|a, b| a.feats == b.feats)),
        ("AllTags", score(false, &|a, b| a.upos == b.upos && a.xpos == b.xpos && a.feats == b.feats)),
        ("Lemmas", score(false, &lemma_ok)),
        ("UAS", score(false, &|a, b| gold_key(a) == sys_key(b))),
        ("LAS", score(false, &las)),
        ("CLAS", score(true, &las)),
        ("MLAS", score(true, &|a, b| las(a, b) && a.upos == b.upos && a.feats == b.feats && children_ok(a, b))),
        ("BLEX", score(true, &|a, b| las(a, b) && lemma_ok(a, b))),
        ("ELAS", enhanced(false)),
        ("EULAS", enhanced(true)),
    ];
    Ok(Evaluation { scores })
}
