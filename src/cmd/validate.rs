//! `tatra validate FILE...`: CoNLL-U format checks.

use std::path::PathBuf;
use std::process::ExitCode;

/// Check CoNLL-U files at the format level
///
/// Ten columns, no empty field, IDs in sequence, multi-word-token ranges, empty nodes, HEAD in range, one root, no cycle,
/// UTF-8, blank line after every sentence. (Not the UD annotation guidelines: use the
/// official UD validator for those.)
#[derive(clap::Args)]
pub struct Args {
    /// CoNLL-U files to check.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Show at most this many errors per file.
    #[arg(long, default_value_t = 50)]
    max_errors: usize,
    /// Print only errors.
    #[arg(long, short)]
    quiet: bool,
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let mut failed = 0;
    for f in &a.files {
        let (n, errors) = tatra_core::conllu::validate_file(f);
        if errors.is_empty() {
            if !a.quiet {
                println!("{}: OK ({n} sentences)", f.display());
            }
            continue;
        }
        failed += 1;
        for e in errors.iter().take(a.max_errors) {
            eprintln!("{e}");
        }
        if errors.len() > a.max_errors {
            eprintln!("{}: … and {} more errors", f.display(), errors.len() - a.max_errors);
        }
        eprintln!("{}: INVALID ({} errors, {n} good sentences)", f.display(), errors.len());
    }
    Ok(if failed > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
}
