//! `tatra train posdep …`

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use tatra_adapters::AdapterConfig;
use tatra_posdep::model::HeadConfig;
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
    /// Extra test sets scored and reported (not stored), e.g. a held-out treebank.
    #[arg(long)]
    extra: Vec<PathBuf>,
    /// Replace the recorded training command (e.g. when training ran elsewhere with
    /// copied paths, record the equivalent command from the repository root).
    #[arg(long)]
    recipe: Option<String>,
}

fn scores_of(posdep: &tatra_posdep::run::Posdep, encoder: &tatra_encoder::Encoder, gold: &std::path::Path) -> anyhow::Result<std::collections::BTreeMap<String, f64>> {
    let gold_doc = tatra_core::conllu::read_file(gold)?;
    let mut pred = gold_doc.clone();
    for chunk in pred.sentences.chunks_mut(256) {
        posdep.annotate(encoder, chunk)?;
    }
    Ok(tatra_posdep::train::score(&gold_doc, &pred)?)
}

fn run_scores(a: ScoreArgs) -> anyhow::Result<ExitCode> {
    let device = tatra_encoder::device::select(tatra_encoder::device::DeviceChoice::from_env()?)?;
    let dir = crate::cmd::default_encoder_dir();
    let encoder = tatra_encoder::Encoder::load(&dir, &device)?;
    let posdep = tatra_posdep::run::Posdep::load(&a.package, &encoder)?;
    // Rewrite first (f16 weights), then score what is shipped.
    posdep.save(&a.package, true, &[])?;
    let posdep = tatra_posdep::run::Posdep::load(&a.package, &encoder)?;
    let dev = scores_of(&posdep, &encoder, &a.dev)?;
    let test = scores_of(&posdep, &encoder, &a.test)?;
    let mut out = serde_json::json!({"package": a.package, "dev": dev, "test": test});
    for e in &a.extra {
        out[e.display().to_string()] = serde_json::to_value(scores_of(&posdep, &encoder, e)?)?;
    }
    let mut posdep = posdep;
    posdep.meta.dev_scores = dev;
    posdep.meta.test_scores = test;
    if let Some(r) = a.recipe {
        posdep.meta.command = r;
    }
    posdep.save(&a.package, true, &[])?;
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(ExitCode::SUCCESS)
}

#[derive(clap::Args)]
struct PosdepArgs {
    /// Training CoNLL-U file.
    #[arg(long)]
    train: PathBuf,
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
    /// Adapter bottleneck = hidden / reduction.
    #[arg(long, default_value_t = 8)]
    reduction: usize,
    #[arg(long, default_value_t = 1e-3)]
    lr: f64,
    /// Heads read a learned mix of the adapted layers' outputs (posdep; `--mix false`: the last layer).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    mix: bool,
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
}

fn tokenize_scores_of(model: &tatra_tokenize::Tokenize, encoder: &tatra_encoder::Encoder, gold: &std::path::Path) -> anyhow::Result<std::collections::BTreeMap<String, f64>> {
    let gold_doc = tatra_core::conllu::read_file(gold)?;
    let text = tatra_tokenize::data::raw_text(&gold_doc);
    let pred = model.document(encoder, &text, 1)?;
    Ok(tatra_tokenize::train::score(&gold_doc, &pred)?)
}

fn run_tokenize_scores(a: ScoreArgs) -> anyhow::Result<ExitCode> {
    let device = tatra_encoder::device::select(tatra_encoder::device::DeviceChoice::from_env()?)?;
    let dir = crate::cmd::default_encoder_dir();
    let encoder = tatra_encoder::Encoder::load(&dir, &device)?;
    let mut model = tatra_tokenize::Tokenize::load(&a.package, &encoder)?;
    let dev = tokenize_scores_of(&model, &encoder, &a.dev)?;
    let test = tokenize_scores_of(&model, &encoder, &a.test)?;
    let mut out = serde_json::json!({"package": a.package, "dev": dev, "test": test});
    for e in &a.extra {
        out[e.display().to_string()] = serde_json::to_value(tokenize_scores_of(&model, &encoder, e)?)?;
    }
    model.meta.dev_scores = dev;
    model.meta.test_scores = test;
    if let Some(r) = a.recipe {
        model.meta.command = r;
    }
    model.save(&a.package, true, &[])?;
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(ExitCode::SUCCESS)
}

fn command_line() -> String {
    std::env::args().map(|a| if a.contains(' ') { format!("'{a}'") } else { a }).collect::<Vec<_>>().join(" ")
}

fn treebank_of(p: &PosdepArgs) -> String {
    p.treebank.clone().unwrap_or_else(|| {
        p.train.file_name().map_or(String::new(), |f| f.to_string_lossy().split('-').next().unwrap_or("").to_string())
    })
}

fn run_tokenize(t: TokenizeArgs) -> anyhow::Result<ExitCode> {
    let p = &t.common;
    let device = tatra_encoder::device::select(tatra_encoder::device::DeviceChoice::from_env()?)?.autodiff();
    let dir = p.encoder.clone().unwrap_or_else(crate::cmd::default_encoder_dir);
    let encoder = tatra_encoder::Encoder::load(&dir, &device).with_context(|| format!("loading the encoder from {}", dir.display()))?;
    let opts = tatra_tokenize::train::TrainOptions {
        train: p.train.clone(),
        dev: p.dev.clone(),
        out: p.out.clone(),
        language: p.lang.clone(),
        treebank: treebank_of(p),
        licence: p.licence.clone(),
        command: command_line(),
        adapters: AdapterConfig { top_layers: p.adapter_layers, reduction: p.reduction },
        window: t.window,
        dropout: t.dropout,
        learning_rate: p.lr,
        max_epochs: p.max_epochs,
        patience: p.patience,
        batch_tokens: p.batch_tokens,
        seed: p.seed,
        resume: p.resume,
        checkpoint_minutes: p.checkpoint_minutes,
        max_minutes: p.max_minutes,
        quiet: p.quiet,
    };
    let report = tatra_tokenize::train::train(&encoder, &opts)?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(ExitCode::SUCCESS)
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let p = match a.stage {
        Stage::Posdep(p) => p,
        Stage::PosdepScores(s) => return run_scores(s),
        Stage::Tokenize(t) => return run_tokenize(t),
        Stage::TokenizeScores(s) => return run_tokenize_scores(s),
    };
    let device = tatra_encoder::device::select(tatra_encoder::device::DeviceChoice::from_env()?)?.autodiff();
    let dir = p.encoder.clone().unwrap_or_else(crate::cmd::default_encoder_dir);
    let encoder = tatra_encoder::Encoder::load(&dir, &device).with_context(|| format!("loading the encoder from {}", dir.display()))?;
    let treebank = treebank_of(&p);
    let command = command_line();
    let opts = TrainOptions {
        train: p.train,
        dev: p.dev,
        out: p.out,
        language: p.lang,
        treebank,
        licence: p.licence,
        command,
        adapters: AdapterConfig { top_layers: p.adapter_layers, reduction: p.reduction },
        heads: HeadConfig::default(),
        mix: p.mix,
        learning_rate: p.lr,
        max_epochs: p.max_epochs,
        patience: p.patience,
        batch_tokens: p.batch_tokens,
        seed: p.seed,
        resume: p.resume,
        checkpoint_minutes: p.checkpoint_minutes,
        max_minutes: p.max_minutes,
        quiet: p.quiet,
    };
    let report = train(&encoder, &opts)?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(ExitCode::SUCCESS)
}
