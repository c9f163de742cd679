//! Writes the evaluator's gold/system test pairs (see `perturb::fixture_pairs`) to a
//! folder, for `scripts/udeval-fixtures.sh` to score with the official evaluator.
//! Usage: cargo run --release -p tatra-eval --example make_eval_pairs -- OUT_DIR

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args().nth(1).ok_or("usage: make_eval_pairs OUT_DIR")?;
    let ud = tatra_core::shared::shared_path("ud").ok_or("shared/ud not found (set TATRA_SHARED)")?;
    std::fs::create_dir_all(&out)?;
    for (name, gold, p) in tatra_eval::perturb::fixture_pairs() {
        let gold = ud.join(gold);
        let doc = tatra_core::conllu::read_file(&gold)?;
        let sys = tatra_eval::perturb::perturb(&doc, &p);
        std::fs::write(format!("{out}/{name}.system.conllu"), tatra_core::conllu::to_string(&sys))?;
        std::fs::write(format!("{out}/{name}.gold"), gold.display().to_string())?;
    }
    Ok(())
}
