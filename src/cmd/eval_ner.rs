//! `tatra eval-ner GOLD SYSTEM`: exact-span NER scores (conlleval / seqeval).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

/// Named-entity scores: exact-span precision, recall and F1 per type and micro-averaged,
/// as conlleval and seqeval compute them
#[derive(clap::Args)]
pub struct Args {
    /// Gold file: IOB2 (UniversalNER) or CoNLL-U with NER=… in MISC.
    gold: PathBuf,
    /// System file, same tokens, same formats accepted.
    system: PathBuf,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Tag sequences of a file: IOB2 columns, or `NER=` in the token MISC of CoNLL-U
/// (`O` where absent).
pub fn read_tags(path: &Path) -> anyhow::Result<Vec<Vec<String>>> {
    if path.extension().is_some_and(|e| e == "conllu") {
        let doc = tatra_core::conllu::read_file(path)?;
        return Ok(doc
            .sentences
            .iter()
            .map(|s| s.tokens.iter().map(|t| tatra_core::misc_get(t.token_misc(), "NER").unwrap_or("O").to_string()).collect())
            .collect());
    }
    let s = tatra_ner::iob2::read_file(path).map_err(|e| anyhow::anyhow!(e))?;
    Ok(s.into_iter().map(|s| s.tags).collect())
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let g = read_tags(&a.gold)?;
    let s = read_tags(&a.system)?;
    let ev = tatra_ner::spans::evaluate(&g, &s).map_err(|e| anyhow::anyhow!(e)).with_context(|| format!("{} vs {}", a.gold.display(), a.system.display()))?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&ev)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("{:<8} {:>9} {:>9} {:>9} {:>7} {:>7} {:>7}", "type", "precision", "recall", "F1", "gold", "system", "correct");
    for (k, p) in ev.iter().filter(|(k, _)| *k != "micro").chain(ev.iter().filter(|(k, _)| *k == "micro")) {
        println!("{:<8} {:>9.2} {:>9.2} {:>9.2} {:>7} {:>7} {:>7}", k, p.precision, p.recall, p.f1, p.gold, p.predicted, p.correct);
    }
    Ok(ExitCode::SUCCESS)
}
