//! `tatra text FILE.conllu`: the raw text of a CoNLL-U file, as the raw-text evaluation
//! feeds it to the pipeline (`tatra_tokenize::data::raw_text`).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

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
    match &a.output {
        None => {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => anyhow::bail!("cannot write to standard output: {e}"),
                _ => {}
            }
        }
        Some(out) => {
            let name = out.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_else(|| "out".into());
            let tmp = out.with_file_name(format!(".{name}.tatra-tmp-{}", std::process::id()));
            std::fs::write(&tmp, text.as_bytes()).with_context(|| format!("cannot write {}: check that the folder exists and is writable", out.display()))?;
            if let Err(e) = std::fs::rename(&tmp, out) {
                let _ = std::fs::remove_file(&tmp);
                return Err(e).with_context(|| format!("cannot write {}", out.display()));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
