//! `tatra annotate`: CoNLL-U in, CoNLL-U out (gold tokenization kept).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use tatra_posdep::run::Posdep;

/// Annotate text with a language's models
#[derive(clap::Args)]
pub struct Args {
    /// Language: trankit-style name (slovak, english-lines), treebank code (sk_snk) or ISO code (sk).
    #[arg(long)]
    lang: String,
    /// Input file (default: standard input).
    file: Option<PathBuf>,
    /// Input format. (Raw and pretokenized text arrive with the tokenizer stage.)
    #[arg(long, default_value = "conllu", value_parser = ["conllu"])]
    input: String,
    /// Output file (written atomically); default: standard output.
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// A posdep package to use instead of the shipped one.
    #[arg(long)]
    posdep: Option<PathBuf>,
    /// cpu, gpu or auto (default: $TATRA_DEVICE, else cpu).
    #[arg(long)]
    device: Option<tatra_encoder::device::DeviceChoice>,
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let Some(code) = tatra::langs::resolve(&a.lang) else {
        let known: Vec<String> = tatra::langs::LANGUAGES.iter().map(|(c, n, i, _)| format!("{} ({c}, {i})", n[0])).collect();
        bail!("unknown language '{}'; available: {}", a.lang, known.join(", "));
    };
    let package = match a.posdep.clone().or_else(|| tatra::langs::find_package(code, "posdep")) {
        Some(p) => p,
        None => bail!(
            "no posdep model for {code}: looked for {code}/posdep.zip in {}; train one with `tatra train posdep` or set TATRA_MODELS",
            tatra::langs::model_dirs().iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(", ")
        ),
    };
    let choice = match a.device {
        Some(d) => d,
        None => tatra_encoder::device::DeviceChoice::from_env()?,
    };
    let device = tatra_encoder::device::select(choice)?;
    let enc_dir = crate::cmd::default_encoder_dir();
    let encoder = tatra_encoder::Encoder::load(&enc_dir, &device).with_context(|| format!("loading the encoder from {}", enc_dir.display()))?;
    let posdep = Posdep::load(&package, &encoder)?;

    let mut doc = match &a.file {
        Some(f) => tatra_core::conllu::read_file(f)?,
        None => {
            let mut s = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut s).context("reading standard input")?;
            tatra_core::conllu::read_str(&s, "<stdin>")?
        }
    };
    for chunk in doc.sentences.chunks_mut(256) {
        posdep.annotate(&encoder, chunk)?;
    }
    let text = tatra_core::conllu::to_string(&doc);
    match &a.output {
        Some(out) => {
            let tmp = out.with_extension("tatra-tmp");
            std::fs::write(&tmp, text).with_context(|| format!("cannot write {}", tmp.display()))?;
            std::fs::rename(&tmp, out).with_context(|| format!("cannot write {}", out.display()))?;
        }
        None => {
            let mut so = std::io::stdout().lock();
            if let Err(e) = so.write_all(text.as_bytes()) {
                if e.kind() != std::io::ErrorKind::BrokenPipe {
                    return Err(e.into());
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
