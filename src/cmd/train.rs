//! `tatra train posdep …`

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use tatra_adapters::AdapterConfig;
use tatra_adapters::package::{Meta, StageError};
use tatra_adapters::train::{Provenance, Schedule};
use tatra_posdep::model::HeadConfig;
use tatra_encoder::Encoder;
use tatra_posdep::train::{TrainOptions, train};

/// Train an adapter package for a stage
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    stage: Stage,
}

#[derive(clap::Subcommand)]
enum Stage {
    /// The joint tagger, lemmatizer and parser (UPOS, XPOS, UFeats, lemmas, trees)
    Posdep(PosdepArgs),
    /// Score a trained posdep package on dev and test (gold tokenization) and record the
    /// scores in it (its weights are rewritten in f16)
    PosdepScores(ScoreArgs),
    /// Sentence splitting, tokenization and multi-word tokens from raw text
    Tokenize(TokenizeArgs),
    /// Score a trained tokenize package from raw text on dev and test and record the
    /// scores in it
    TokenizeScores(ScoreArgs),
    /// The language identifier of multilingual pipelines (trigram profiles from each
    /// shipped language's training text), with its accuracy on the UD test texts
    Langid(LangidArgs),
    /// Named entities (BIO tags) from UniversalNER IOB2 files
    Ner(NerArgs),
    /// Score a trained NER package on dev and test IOB2 files (exact-span micro F1) and
    /// record the scores in it
    NerScores(ScoreArgs),
    /// A seed ensemble of NER packages of one configuration (BiLSTM models trained with
    /// other seeds): one package whose members' tag scores are averaged; score it with
    /// `ner-scores`
    NerEnsemble(EnsembleArgs),
    /// A seed ensemble of posdep packages trained on the same files with the same
    /// settings (other seeds): one package whose members' log-probabilities are averaged
    /// before decoding; score it with `posdep-scores`. One package with `--q8` (`--q4`) is
    /// rewritten in 8-bit (4-bit) blocks.
    PosdepEnsemble(EnsembleArgs),
}

#[derive(clap::Args)]
struct EnsembleArgs {
    /// The ensemble package to write.
    #[arg(long)]
    out: PathBuf,
    /// The member packages (the first one's metadata, decoding and lexicon are kept;
    /// members of ensembles among them join as members).
    #[arg(required = true, num_args = 1..)]
    packages: Vec<PathBuf>,
    /// Store the weights in 8-bit blocks (about half the f16 size, so twice the members
    /// fit a size budget; recorded as `"weights": "q8"` and kept on rescoring).
    #[arg(long)]
    q8: bool,
    /// Store the weights in 4-bit blocks (about half the Q8 size; recorded as
    /// `"weights": "q4"` and kept on rescoring).
    #[arg(long, conflicts_with = "q8")]
    q4: bool,
    /// With `--q4`: values per scale (default 32; 64 made Greek-GDT's package 8% smaller,
    /// 128 Czech-CLTT's 12%; recorded as `"weights": "q4-N"`).
    #[arg(long, requires = "q4", value_parser = clap::value_parser!(u16).range(2..=4096))]
    q4_block: Option<u16>,
}

/// A stage whose packages make seed ensembles (`tatra train ner-ensemble`,
/// `posdep-ensemble`).
trait Ensembled: Rescored {
    const STAGE: &'static str;
    fn ensemble(models: Vec<Self>, command: &str) -> Result<Self, StageError>;
    fn members(&mut self) -> &mut Vec<tatra_adapters::package::Member>;
}

impl Ensembled for tatra_ner::Ner {
    const STAGE: &'static str = "ner";
    fn ensemble(models: Vec<Self>, command: &str) -> Result<Self, StageError> {
        Self::ensemble(models, command)
    }
    fn members(&mut self) -> &mut Vec<tatra_adapters::package::Member> {
        &mut self.config.members
    }
}

impl Ensembled for tatra_posdep::run::Posdep {
    const STAGE: &'static str = "posdep";
    fn ensemble(models: Vec<Self>, command: &str) -> Result<Self, StageError> {
        Self::ensemble(models, command)
    }
    fn members(&mut self) -> &mut Vec<tatra_adapters::package::Member> {
        &mut self.config.members
    }
}

/// `tatra train STAGE-ensemble`: load the packages, join them, record the portable
/// command (and Q8), write the package.
fn run_ensemble<M: Ensembled>(a: EnsembleArgs) -> anyhow::Result<ExitCode> {
    let device = tatra_encoder::device::select(tatra_encoder::device::DeviceChoice::from_env()?)?;
    let encoder = Encoder::load(&crate::cmd::default_encoder_dir(), &device)?;
    let mut models = Vec::new();
    for p in &a.packages {
        models.push(M::load(p, &encoder)?);
    }
    let shown: Vec<String> = a.packages.iter().map(|p| p.display().to_string()).collect();
    let (weights, flag): (String, String) = match (a.q8, a.q4, a.q4_block.map(usize::from)) {
        (true, ..) => ("q8".into(), " --q8".into()),
        (_, true, Some(b)) if b != tatra_adapters::params::Q4_BLOCK => (format!("q4-{b}"), format!(" --q4 --q4-block {b}")),
        (_, true, _) => ("q4".into(), " --q4".into()),
        _ => (String::new(), String::new()),
    };
    let command = format!("tatra train {}-ensemble{flag} --out {} {}", M::STAGE, a.out.display(), shown.join(" "));
    let mut model = M::ensemble(models, &command)?;
    let meta = model.meta();
    meta.command = portable(&meta.command);
    if !weights.is_empty() {
        meta.weights = weights;
    }
    for m in model.members().iter_mut() {
        m.command = portable(&m.command);
    }
    model.save(&a.out)?;
    eprintln!("{}: {} member(s)", a.out.display(), model.members().len() + 1);
    Ok(ExitCode::SUCCESS)
}

#[derive(clap::Args)]
struct NerArgs {
    #[command(flatten)]
    common: PosdepArgs,
    /// Dropout before the tag classifier.
    #[arg(long, default_value_t = 0.2)]
    dropout: f64,
    /// Train a linear-chain CRF over the tag scores (sentence likelihood, transitions
    /// learned; needs --lstm) instead of per-token cross-entropy.
    #[arg(long)]
    crf: bool,
    /// Read each sentence with up to N tokens of the sentence before and the one after it
    /// in the same file (document context; only the sentence's own tokens are tagged and
    /// scored; needs --lstm). Annotation then reads the same context.
    #[arg(long, default_value_t = 0, value_name = "N")]
    context: usize,
}

fn run_ner(t: NerArgs) -> anyhow::Result<ExitCode> {
    let p = &t.common;
    if !p.transfer_train.is_empty() || !p.transfer_outputs.is_empty() {
        eprintln!("error: --transfer-train and --transfer-outputs are for posdep (UniversalNER's tags are the same in every language: use --also-train)");
        return Ok(ExitCode::from(2));
    }
    if t.crf && p.lstm == 0 {
        eprintln!("error: --crf needs the token-level BiLSTM: give --lstm N (e.g. --lstm 200)");
        return Ok(ExitCode::from(2));
    }
    if t.context > 0 && p.lstm == 0 {
        eprintln!("error: --context needs the token-level BiLSTM: give --lstm N (e.g. --lstm 200)");
        return Ok(ExitCode::from(2));
    }
    let encoder = training_encoder(p)?;
    let opts = tatra_ner::train::TrainOptions {
        prov: provenance(p),
        schedule: schedule(p),
        adapters: adapters(p),
        dropout: t.dropout,
        first_last: p.first_last,
        lstm: p.lstm,
        crf: t.crf,
        context: t.context,
    };
    let report = tatra_ner::train::train(&encoder, &opts)?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(ExitCode::SUCCESS)
}

fn ner_scores_of(model: &tatra_ner::Ner, encoder: &Encoder, gold: &Path) -> anyhow::Result<Scores> {
    let g = tatra_ner::iob2::read_file(gold).map_err(|e| anyhow::anyhow!(e))?;
    let forms: Vec<Vec<String>> = g.iter().map(|s| s.forms.clone()).collect();
    let pred = model.tag(encoder, &forms)?;
    let gold_tags: Vec<Vec<String>> = g.iter().map(|s| s.tags.clone()).collect();
    let ev = tatra_ner::spans::evaluate(&gold_tags, &pred).map_err(|e| anyhow::anyhow!(e))?;
    let r = |x: f64| (x * 100.0).round() / 100.0;
    let mut out = std::collections::BTreeMap::new();
    for (k, p) in ev {
        let name = if k == "micro" { "F1".to_string() } else { format!("F1-{k}") };
        out.insert(name, r(p.f1));
        if k == "micro" {
            out.insert("P".into(), r(p.precision));
            out.insert("R".into(), r(p.recall));
        }
    }
    Ok(out)
}


#[derive(clap::Args)]
struct LangidArgs {
    /// Output file (JSON).
    #[arg(long, default_value = "models/langid.json")]
    out: PathBuf,
}

fn run_langid(a: LangidArgs) -> anyhow::Result<ExitCode> {
    let mut id = tatra::langid::LangId::default();
    let mut tests = Vec::new();
    for (code, _, _, folder) in tatra::langs::LANGUAGES {
        let dir = format!("ud/{folder}");
        let shared = tatra_core::shared::shared_dir().context("no shared data: set TATRA_SHARED to the folder that holds ud/")?;
        // Chinese and Japanese have no train file here: their dev file stands in.
        let train = ["train", "dev"]
            .iter()
            .map(|part| shared.join(&dir).join(format!("{code}-ud-{part}.conllu")))
            .find(|p| p.is_file())
            .with_context(|| format!("no training text for {code} under {}", shared.join(&dir).display()))?;
        let doc = tatra_core::conllu::read_file(&train)?;
        id.add(code, &tatra_tokenize::data::raw_text(&doc));
        if let Some(t) = tatra_core::shared::shared_path(&format!("{dir}/{code}-ud-test.conllu")) {
            tests.push((*code, tatra_core::conllu::read_file(&t)?));
        }
    }
    let bytes = serde_json::to_vec(&id)?;
    let mut sink = super::annotate::Sink::open(Some(&a.out))?;
    if let Err(e) = sink.write(&bytes) {
        sink.abandon();
        return Err(e);
    }
    sink.finish()?;
    // Accuracy on the test texts: single sentences, and paragraphs of five sentences.
    println!("| treebank | sentences | accuracy (1 sentence) | accuracy (5 sentences) |\n|---|---|---|---|");
    let (mut all1, mut ok1, mut all5, mut ok5) = (0, 0, 0, 0);
    for (code, doc) in &tests {
        let texts: Vec<String> = doc.sentences.iter().map(|s| s.rebuilt_text()).collect();
        let one = texts.iter().filter(|t| id.detect(t, &[]).as_deref() == Some(code)).count();
        let chunks: Vec<String> = texts.chunks(5).map(|c| c.join(" ")).collect();
        let five = chunks.iter().filter(|t| id.detect(t, &[]).as_deref() == Some(code)).count();
        println!("| {code} | {} | {:.2} | {:.2} |", texts.len(), 100.0 * one as f64 / texts.len() as f64, 100.0 * five as f64 / chunks.len() as f64);
        (all1, ok1, all5, ok5) = (all1 + texts.len(), ok1 + one, all5 + chunks.len(), ok5 + five);
    }
    println!("| all | {all1} | {:.2} | {:.2} |", 100.0 * ok1 as f64 / all1.max(1) as f64, 100.0 * ok5 as f64 / all5.max(1) as f64);
    Ok(ExitCode::SUCCESS)
}

#[derive(clap::Args)]
struct TokenizeArgs {
    #[command(flatten)]
    common: PosdepArgs,
    /// Content units (subword pieces) per training window.
    #[arg(long, default_value_t = 254)]
    window: usize,
    /// Dropout before the unit classifier.
    #[arg(long, default_value_t = 0.1)]
    dropout: f64,
    /// Scripts without spaces (Chinese): keep each multi-character piece of the encoder's
    /// tokenizer whole, as it was pretrained, unless the training text has a token end
    /// inside it (those pieces are cut into characters). Default: cut every such piece.
    #[arg(long)]
    whole_pieces: bool,
    /// With `--whole-pieces`: pieces longer than N characters are cut all the same (0: no limit).
    #[arg(long, default_value_t = 0)]
    whole_max_chars: usize,
    /// With `--whole-pieces`: pieces with hiragana are cut all the same (Japanese).
    #[arg(long)]
    cut_hiragana: bool,
    /// Drop the final `.`/`!`/`?`/`…` of this share of the training sentences (seeded),
    /// so that sentence ends without punctuation (headings, titles) are learned too.
    #[arg(long, default_value_t = 0.0)]
    drop_final_punct: f64,
}

#[derive(clap::Args)]
struct ScoreArgs {
    /// The package to score.
    #[arg(long)]
    package: PathBuf,
    #[arg(long)]
    dev: PathBuf,
    #[arg(long)]
    test: PathBuf,
    /// tokenize: (re)derive from this training file where letter runs may be split
    /// (`did|n't`), which punctuation always splits from a letter (`word|,`), which chunks
    /// always start a sentence after a word without final punctuation (`… majetku | (1)`) and, where
    /// tokens contain spaces or the script has none, the words of several syllables or
    /// characters (Vietnamese, Chinese, Japanese), stored in the package before scoring.
    #[arg(long)]
    train: Option<PathBuf>,
    /// tokenize: choose the sentence-end bias on the dev set and store it in the package
    /// before scoring (measured on the shipped treebanks: dev gains of 0.3-1.0 Sentences
    /// became test changes of -2.5 to +1.3, so their packages keep 0).
    #[arg(long)]
    tune_sentence_bias: bool,
    /// tokenize: choose on the dev set a bias added to the sentence-end logits where a
    /// word ends before whitespace and a capital letter (headings without final
    /// punctuation) and store it in the package before scoring.
    #[arg(long)]
    tune_heading_bias: bool,
    /// tokenize, with `--train`: store the training file's multi-word decisions by
    /// context — for forms it has both ways (French "des"), the (previous token, form)
    /// pairs seen at least N times and one way in at least 95% of them, and the forms
    /// seen at least N times always multi-word — which then override the tokenize head
    /// (French-Sequoia: N chosen on dev, docs/models.md). 0: remove them.
    #[arg(long, value_name = "N")]
    mwt_context: Option<usize>,
    /// Extra test sets scored and reported (not stored), e.g. a held-out treebank.
    #[arg(long)]
    extra: Vec<PathBuf>,
    /// Replace the recorded training command (e.g. when training ran elsewhere with
    /// copied paths, record the equivalent command from the repository root).
    #[arg(long)]
    recipe: Option<String>,
    /// Replace the recorded licence of the training data.
    #[arg(long)]
    licence: Option<String>,
    /// Replace the recorded language name.
    #[arg(long)]
    lang: Option<String>,
}

type Scores = std::collections::BTreeMap<String, f64>;

/// A stage's model as `tatra train *-scores` handles it.
trait Rescored: Sized {
    fn load(path: &Path, encoder: &Encoder) -> Result<Self, StageError>;
    fn save(&self, path: &Path) -> Result<(), StageError>;
    fn meta(&mut self) -> &mut Meta;
    fn scores(&self, encoder: &Encoder, gold: &Path) -> anyhow::Result<Scores>;
}

/// The stage models all load, save (f16, or Q8 where the package says so) and carry their metadata the same way; only
/// their scoring differs.
macro_rules! rescored {
    ($model:ty, $scores:ident) => {
        impl Rescored for $model {
            fn load(path: &Path, encoder: &Encoder) -> Result<Self, StageError> {
                Self::load(path, encoder)
            }
            fn save(&self, path: &Path) -> Result<(), StageError> {
                self.save(path, tatra_adapters::params::Precision::shipped(&self.meta), &[])
            }
            fn meta(&mut self) -> &mut Meta {
                &mut self.meta
            }
            fn scores(&self, encoder: &Encoder, gold: &Path) -> anyhow::Result<Scores> {
                $scores(self, encoder, gold)
            }
        }
    };
}

rescored!(tatra_posdep::run::Posdep, scores_of);
rescored!(tatra_tokenize::Tokenize, tokenize_scores_of);
rescored!(tatra_ner::Ner, ner_scores_of);

/// `tatra train *-scores`: rewrite the package with f16 (or its Q8) weights (after `prepare`), score
/// what is now shipped on dev, test and any extra files, record dev/test and the fixed
/// metadata in it, and print the figures.
fn rescore<M: Rescored>(a: ScoreArgs, prepare: impl FnOnce(&mut M, &Encoder) -> anyhow::Result<()>) -> anyhow::Result<ExitCode> {
    let device = tatra_encoder::device::select(tatra_encoder::device::DeviceChoice::from_env()?)?;
    let encoder = Encoder::load(&crate::cmd::default_encoder_dir(), &device)?;
    let mut model = M::load(&a.package, &encoder)?;
    prepare(&mut model, &encoder)?;
    model.save(&a.package)?;
    let mut model = M::load(&a.package, &encoder)?;
    let dev = model.scores(&encoder, &a.dev)?;
    let test = model.scores(&encoder, &a.test)?;
    let mut out = serde_json::json!({"package": a.package, "dev": dev, "test": test});
    for e in &a.extra {
        out[e.display().to_string()] = serde_json::to_value(model.scores(&encoder, e)?)?;
    }
    let meta = model.meta();
    meta.dev_scores = dev;
    meta.test_scores = test;
    fix_meta(meta, &a);
    model.save(&a.package)?;
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(ExitCode::SUCCESS)
}

fn fix_meta(meta: &mut Meta, a: &ScoreArgs) {
    if let Some(r) = &a.recipe {
        meta.command = r.clone();
    }
    if let Some(l) = &a.licence {
        meta.licence = l.clone();
    }
    if let Some(l) = &a.lang {
        meta.language = l.clone();
    }
}

fn scores_of(posdep: &tatra_posdep::run::Posdep, encoder: &Encoder, gold: &Path) -> anyhow::Result<Scores> {
    let gold_doc = tatra_core::conllu::read_file(gold)?;
    let mut pred = gold_doc.clone();
    for chunk in pred.sentences.chunks_mut(256) {
        posdep.annotate(encoder, chunk)?;
    }
    Ok(tatra_posdep::train::score(&gold_doc, &pred)?)
}


#[derive(clap::Args)]
struct PosdepArgs {
    /// Training CoNLL-U file (NER: IOB2).
    #[arg(long)]
    train: PathBuf,
    /// More training files in the same format, added to `--train` (another treebank of the
    /// language, or other languages' data for cross-lingual transfer through the shared
    /// encoder; recorded in the package); repeatable.
    #[arg(long, value_name = "FILE")]
    also_train: Vec<PathBuf>,
    /// posdep: training files of another language or annotation scheme (a related
    /// language's treebank): their sentences train only the labels the `--train` and
    /// `--also-train` files have (an XPOS tag, feature string, lemma rule or deprel of
    /// theirs alone is not learned) and stay out of the lemma lexicon; repeatable.
    #[arg(long, value_name = "FILE")]
    transfer_train: Vec<PathBuf>,
    /// posdep: at most N sentences from each `--transfer-train` file, evenly spaced.
    #[arg(long, value_name = "N")]
    transfer_sentences: Option<usize>,
    /// posdep: the outputs the `--transfer-train` sentences train besides the arcs, of
    /// upos, xpos, feats, lemma, deprel (comma-separated; default all): e.g. `upos,deprel`
    /// keeps another language's feature strings and lemmas out of the own ones.
    #[arg(long, value_name = "LIST", value_delimiter = ',', value_parser = ["upos", "xpos", "feats", "lemma", "deprel"])]
    transfer_outputs: Vec<String>,
    /// Development CoNLL-U file (early stopping, reported scores).
    #[arg(long)]
    dev: PathBuf,
    /// Output package (zip); a checkpoint is kept beside it as OUT.ckpt.
    #[arg(long)]
    out: PathBuf,
    /// Language name recorded in the package.
    #[arg(long, default_value = "")]
    lang: String,
    /// Treebank code recorded in the package (default: from the file name).
    #[arg(long)]
    treebank: Option<String>,
    /// Licence of the training data, recorded in the package.
    #[arg(long, default_value = "see the treebank's LICENSE")]
    licence: String,
    /// Encoder package or HuggingFace model folder (default: the embedded e5-small).
    #[arg(long)]
    encoder: Option<PathBuf>,
    /// Number of top encoder layers that get adapters (the rest is computed once and cached).
    #[arg(long, default_value_t = 6)]
    adapter_layers: usize,
    /// Use only the encoder's first N layers (adapters in the top `--adapter-layers` of
    /// them; the layers above never run); 0: all.
    #[arg(long, default_value_t = 0)]
    depth: usize,
    /// Adapter bottleneck = hidden / reduction.
    #[arg(long, default_value_t = 8)]
    reduction: usize,
    #[arg(long, default_value_t = 1e-3)]
    lr: f64,
    /// Heads read a learned mix of the adapted layers' outputs (posdep; `--mix false`: the last layer).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    mix: bool,
    /// Word vectors from the first and the last subword piece side by side (posdep; NER:
    /// tag scores from both pieces, added; else the first piece).
    #[arg(long)]
    first_last: bool,
    /// Arc scores get a learned bias per head–dependent distance up to ±N (posdep; 0: none).
    #[arg(long, default_value_t = 0)]
    distance: usize,
    /// posdep: word vectors also carry learned embeddings of the word's last 1..N
    /// characters (lowercased, hashed into 4,096 rows per length; 0: none).
    #[arg(long, default_value_t = 0)]
    suffixes: usize,
    /// A word-level BiLSTM of width N per direction over the word vectors (posdep),
    /// token vectors (NER) or subword units (tokenize), its outputs appended to them
    /// before the heads (0: none).
    #[arg(long, default_value_t = 0)]
    lstm: usize,
    /// posdep: stacked BiLSTM layers (with `--lstm`; NER has one).
    #[arg(long, default_value_t = 1)]
    lstm_layers: usize,
    /// posdep: the heads read the BiLSTM's output alone, not the word vectors with it
    /// appended (smaller heads, a smaller package).
    #[arg(long)]
    lstm_only: bool,
    /// posdep: word dropout on the cached lower states — in training, each word's pieces
    /// become the mean training state with this probability (0: none).
    #[arg(long, default_value_t = 0.0)]
    word_drop: f64,
    #[arg(long, default_value_t = 40)]
    max_epochs: usize,
    /// Stop after this many epochs without dev improvement.
    #[arg(long, default_value_t = 4)]
    patience: usize,
    /// Padded subword pieces per batch.
    #[arg(long, default_value_t = 2048)]
    batch_tokens: usize,
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Continue from OUT.ckpt.
    #[arg(long)]
    resume: bool,
    /// Minutes between checkpoints.
    #[arg(long, default_value_t = 3.0)]
    checkpoint_minutes: f64,
    /// Stop after this many minutes (at the end of an epoch).
    #[arg(long, default_value_t = 600.0)]
    max_minutes: f64,
    /// No progress output.
    #[arg(long, short)]
    quiet: bool,
    /// posdep: start from this package's weights (trained on the same file with the same
    /// settings), e.g. to go on with a run cut by its time budget whose checkpoint is gone.
    #[arg(long, value_name = "PACKAGE")]
    init: Option<PathBuf>,
    /// Dev scores and the package come from an exponential moving average of the weights
    /// with this decay per step (e.g. 0.999; kept in the checkpoint); 0: the last step's
    /// weights.
    #[arg(long, default_value_t = 0.0, value_parser = ema_decay)]
    ema: f64,
}

fn ema_decay(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(d) if (0.0..1.0).contains(&d) => Ok(d),
        _ => Err(format!("'{s}' is not a decay in [0, 1) (e.g. 0.999; 0 turns the average off)")),
    }
}

fn tokenize_scores_of(model: &tatra_tokenize::Tokenize, encoder: &Encoder, gold: &Path) -> anyhow::Result<Scores> {
    let gold_doc = tatra_core::conllu::read_file(gold)?;
    let text = tatra_tokenize::data::raw_text(&gold_doc);
    let pred = model.document(encoder, &text, 1)?;
    let mut scores = tatra_tokenize::train::score(&gold_doc, &pred)?;
    // Multi-word token expansion alone, on the gold multi-word tokens.
    let (seen, seen_ok, unseen, unseen_ok) = tatra_tokenize::mwt::expansion_accuracy(&model.mwt, &gold_doc);
    let pct = |a: usize, b: usize| if b == 0 { 100.0 } else { (10000.0 * a as f64 / b as f64).round() / 100.0 };
    if seen + unseen > 0 {
        scores.insert("MwtSeenAcc".into(), pct(seen_ok, seen));
        scores.insert("MwtUnseenAcc".into(), pct(unseen_ok, unseen));
        scores.insert("MwtUnseenShare".into(), pct(unseen, seen + unseen));
    }
    Ok(scores)
}


/// The command line as a package records it: the program as `tatra` (wherever the
/// binary was, and whatever its copy was called), then the arguments as given.
fn command_line() -> String {
    let line = std::iter::once("tatra".to_string())
        .chain(std::env::args().skip(1).map(|a| if a.contains(' ') { format!("'{a}'") } else { a }))
        .collect::<Vec<_>>()
        .join(" ");
    portable(&line)
}

/// `text` with the shared data folder (`$TATRA_SHARED`, when set) written as its
/// default `../shared`, so that a recorded command names no machine's paths.
fn portable(text: &str) -> String {
    match std::env::var("TATRA_SHARED") {
        Ok(dir) if !dir.is_empty() && dir != "../shared" => {
            let dir = dir.trim_end_matches('/');
            text.replace(&format!("{dir}/"), "../shared/")
        }
        _ => text.to_string(),
    }
}

/// The encoder to train on (`--encoder`, else the embedded one), on an autodiff device.
fn training_encoder(p: &PosdepArgs) -> anyhow::Result<tatra_encoder::Encoder> {
    let device = tatra_encoder::device::select(tatra_encoder::device::DeviceChoice::from_env()?)?.autodiff();
    let dir = p.encoder.clone().unwrap_or_else(crate::cmd::default_encoder_dir);
    tatra_encoder::Encoder::load(&dir, &device).with_context(|| format!("loading the encoder from {}", dir.display()))
}

fn provenance(p: &PosdepArgs) -> Provenance {
    Provenance {
        train: p.train.clone(),
        also_train: p.also_train.clone(),
        transfer_train: p.transfer_train.clone(),
        transfer_sentences: p.transfer_sentences,
        transfer_outputs: p.transfer_outputs.clone(),
        dev: p.dev.clone(),
        out: p.out.clone(),
        language: p.lang.clone(),
        treebank: treebank_of(p),
        licence: p.licence.clone(),
        command: command_line(),
    }
}

fn schedule(p: &PosdepArgs) -> Schedule {
    Schedule {
        learning_rate: p.lr,
        max_epochs: p.max_epochs,
        patience: p.patience,
        batch_tokens: p.batch_tokens,
        seed: p.seed,
        resume: p.resume,
        checkpoint_minutes: p.checkpoint_minutes,
        max_minutes: p.max_minutes,
        quiet: p.quiet,
        ema: p.ema,
    }
}

fn adapters(p: &PosdepArgs) -> AdapterConfig {
    AdapterConfig { top_layers: p.adapter_layers, reduction: p.reduction, depth: p.depth }
}

fn treebank_of(p: &PosdepArgs) -> String {
    p.treebank.clone().unwrap_or_else(|| {
        p.train.file_name().map_or(String::new(), |f| f.to_string_lossy().split('-').next().unwrap_or("").to_string())
    })
}

fn run_tokenize(t: TokenizeArgs) -> anyhow::Result<ExitCode> {
    let p = &t.common;
    if !p.transfer_train.is_empty() || !p.transfer_outputs.is_empty() {
        eprintln!("error: --transfer-train and --transfer-outputs are for posdep (tokenize labels are language-independent: use --also-train)");
        return Ok(ExitCode::from(2));
    }
    let encoder = training_encoder(p)?;
    let opts = tatra_tokenize::train::TrainOptions {
        prov: provenance(p),
        schedule: schedule(p),
        adapters: adapters(p),
        window: t.window,
        dropout: t.dropout,
        whole_pieces: t.whole_pieces,
        whole_max_chars: t.whole_max_chars,
        cut_hiragana: t.cut_hiragana,
        drop_final_punct: t.drop_final_punct,
        lstm: p.lstm,
    };
    let report = tatra_tokenize::train::train(&encoder, &opts)?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(ExitCode::SUCCESS)
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let p = match a.stage {
        Stage::Posdep(p) => p,
        Stage::PosdepScores(s) => return rescore::<tatra_posdep::run::Posdep>(s, |_, _| Ok(())),
        Stage::Tokenize(t) => return run_tokenize(t),
        Stage::TokenizeScores(s) => {
            let (train, tune, dev, mwt_context, tune_heading) = (s.train.clone(), s.tune_sentence_bias, s.dev.clone(), s.mwt_context, s.tune_heading_bias);
            if mwt_context.is_some() && train.is_none() {
                eprintln!("error: --mwt-context learns from a training file: give --train FILE too");
                return Ok(ExitCode::from(2));
            }
            return rescore::<tatra_tokenize::Tokenize>(s, |model, encoder| {
                if let Some(train) = train {
                    let doc = tatra_core::conllu::read_file(&train)?;
                    model.config.glued = tatra_tokenize::data::glued_continuations(&doc);
                    model.config.punct_splits = tatra_tokenize::data::PunctSplits::from_doc(&doc);
                    model.config.sentence_starts = tatra_tokenize::data::sentence_starts(&doc);
                    model.config.joiners = tatra_tokenize::data::joiners(&doc);
                    eprintln!("sentence starts from {}: {:?}; joiners: {:?}", train.display(), model.config.sentence_starts, model.config.joiners);
                    model.config.space_words = tatra_tokenize::words::SpaceWords::from_doc(&doc);
                    match mwt_context {
                        Some(0) => model.mwt.context.clear(),
                        Some(n) => {
                            model.mwt.add_decisions(&doc, n, 0.95);
                            eprintln!("multi-word decisions by context from {}: {}", train.display(), model.mwt.context.len());
                        }
                        None => {}
                    }
                }
                if tune {
                    let doc = tatra_core::conllu::read_file(&dev)?;
                    let table = tatra_tokenize::train::tune_sentence_bias(model, encoder, &doc)?;
                    let shown: Vec<String> = table.iter().map(|(b, m)| format!("{b:+}: {m:.2}")).collect();
                    eprintln!("sentence-end bias on dev (mean of Tokens, Sentences, Words): {}; kept {}", shown.join(", "), model.config.sentence_bias);
                }
                if tune_heading {
                    let doc = tatra_core::conllu::read_file(&dev)?;
                    let table = tatra_tokenize::train::tune_heading_bias(model, encoder, &doc)?;
                    let shown: Vec<String> = table.iter().map(|(b, m)| format!("{b:+}: {m:.2}")).collect();
                    eprintln!("heading bias on dev (mean of Tokens, Sentences, Words): {}; kept {}", shown.join(", "), model.config.heading_bias);
                }
                Ok(())
            });
        }
        Stage::Langid(l) => return run_langid(l),
        Stage::Ner(n) => return run_ner(n),
        Stage::NerScores(s) => return rescore::<tatra_ner::Ner>(s, |_, _| Ok(())),
        Stage::NerEnsemble(a) => return run_ensemble::<tatra_ner::Ner>(a),
        Stage::PosdepEnsemble(a) => return run_ensemble::<tatra_posdep::run::Posdep>(a),
    };
    if !p.transfer_outputs.is_empty() && p.transfer_train.is_empty() {
        eprintln!("error: --transfer-outputs says what the --transfer-train sentences train: give --transfer-train FILE too");
        return Ok(ExitCode::from(2));
    }
    let encoder = training_encoder(&p)?;
    let opts = TrainOptions {
        prov: provenance(&p),
        schedule: schedule(&p),
        adapters: adapters(&p),
        heads: HeadConfig { distance: p.distance, lstm: p.lstm, lstm_layers: p.lstm_layers, lstm_only: p.lstm_only, ..HeadConfig::default() },
        mix: p.mix,
        first_last: p.first_last,
        suffixes: (p.suffixes > 0).then_some(tatra_posdep::model::SuffixConfig { max_len: p.suffixes, buckets: 4096, dim: 32 }),
        init: p.init.clone(),
        word_drop: p.word_drop,
    };
    let report = train(&encoder, &opts)?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(ExitCode::SUCCESS)
}
