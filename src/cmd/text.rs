//! `tatra text FILE.conllu`: the raw text of a CoNLL-U file, as the raw-text evaluation
//! feeds it to the pipeline (`tatra_tokenize::data::raw_text`).

use std::path::PathBuf;
use std::process::ExitCode;

/// Print the raw text of a CoNLL-U file: its tokens, a space after each unless
/// `SpaceAfter=No`, a blank line at each `# newpar` / `# newdoc`
///
/// The input of a raw-text evaluation, as the CoNLL 2018 shared task gave it (and the
/// text `tatra train tokenize` learns from): `tatra text gold.conllu > gold.txt`,
/// `tatra annotate --lang L gold.txt > sys.conllu`, `tatra eval gold.conllu sys.conllu`.
#[derive(clap::Args)]
pub struct Args {
    /// The CoNLL-U file.
    file: PathBuf,
    /// Write here (a temporary file renamed at the end) instead of standard output.
    #[arg(long, short)]
    output: Option<PathBuf>,
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let doc = tatra_core::conllu::read_file(&a.file)?;
    let mut text = tatra_tokenize::data::raw_text(&doc);
    if !text.is_empty() {
        text.push('\n');
    }
    let mut sink = super::annotate::Sink::open(a.output.as_deref())?;
    if let Err(e) = sink.write(text.as_bytes()) {
        sink.abandon();
        return Err(e);
    }
    sink.finish()?;
    Ok(ExitCode::SUCCESS)
}
