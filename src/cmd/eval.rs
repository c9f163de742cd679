//! `tatra eval GOLD SYSTEM`: the CoNLL 2018 shared-task evaluation.

use std::path::PathBuf;
use std::process::ExitCode;

/// Score system CoNLL-U against gold with the CoNLL 2018 shared-task metrics
///
/// Computes Tokens, Sentences, Words, UPOS, XPOS, UFeats, AllTags, Lemmas, UAS, LAS,
/// CLAS, MLAS, BLEX (and the enhanced ELAS, EULAS) exactly as the official evaluator
/// (conll18_ud_eval.py, today `udeval -v` of udtools) and prints its table.
#[derive(clap::Args)]
pub struct Args {
    /// The gold-standard CoNLL-U file.
    gold: PathBuf,
    /// The system output to score (its text must be the gold text).
    system: PathBuf,
    /// Print one JSON object {"UPOS": {"precision": …, "recall": …, "f1": …,
    /// "aligned_accuracy": …}, …} with values in percent.
    #[arg(long)]
    json: bool,
    /// Print the raw counts (correct, gold, predicted, aligned) instead of percentages.
    #[arg(long, short = 'c', conflicts_with = "json")]
    counts: bool,
    /// Leave out the enhanced-graph metrics ELAS and EULAS (the CoNLL 2018 table).
    #[arg(long)]
    no_enhanced: bool,
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let ev = tatra_eval::evaluate_files(&a.gold, &a.system)?;
    let enhanced = !a.no_enhanced;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&ev.to_json(enhanced))?);
    } else if a.counts {
        println!("{}", ev.counts_table(enhanced));
    } else {
        println!("{}", ev.table(enhanced));
    }
    Ok(ExitCode::SUCCESS)
}
