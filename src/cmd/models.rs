//! `tatra models`: the installed models, where they are, and their scores.

use std::process::ExitCode;

/// List installed models: languages, stages, treebank, size, test scores and licence
#[derive(clap::Args)]
pub struct Args {
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let mut rows = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let dirs = tatra::langs::model_dirs();
    // Packages listed from each folder (the first folder that has one wins).
    let mut per_dir = vec![0usize; dirs.len()];
    for (d, dir) in dirs.iter().enumerate() {
        for (code, names, iso, _) in tatra::langs::LANGUAGES {
            for stage in ["tokenize", "posdep", "ner"] {
                let p = dir.join(code).join(format!("{stage}.zip"));
                // The first folder that has a package wins, as when loading.
                if !p.is_file() || !seen.insert((code.to_string(), stage)) {
                    continue;
                }
                let size = std::fs::metadata(&p).map(|m| m.len()).unwrap_or(0);
                let (scores, licence) = match tatra_adapters::package::Package::read(&p) {
                    Ok(pkg) => {
                        let keys: &[&str] = match stage {
                            "tokenize" => &["Tokens", "Sentences", "Words"],
                            "posdep" => &["UPOS", "UFeats", "Lemmas", "LAS"],
                            _ => &["F1"],
                        };
                        let s: Vec<String> =
                            keys.iter().filter_map(|k| pkg.meta.test_scores.get(*k).map(|v| format!("{k} {v:.2}"))).collect();
                        (s.join(", "), pkg.meta.licence.clone())
                    }
                    Err(e) => (format!("unreadable: {e}"), String::new()),
                };
                per_dir[d] += 1;
                rows.push(serde_json::json!({
                    "language": names[0], "iso": iso, "treebank": code, "stage": stage,
                    "size_bytes": size, "test": scores, "licence": licence, "path": p,
                }));
            }
        }
    }
    if a.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("{:<12} {:<4} {:<11} {:<9} {:>7}  {:<44} {}", "language", "iso", "treebank", "stage", "size", "test scores (gold tok. for posdep)", "licence");
    for r in &rows {
        println!(
            "{:<12} {:<4} {:<11} {:<9} {:>5.1}MB  {:<44} {}",
            r["language"].as_str().unwrap_or(""),
            r["iso"].as_str().unwrap_or(""),
            r["treebank"].as_str().unwrap_or(""),
            r["stage"].as_str().unwrap_or(""),
            r["size_bytes"].as_u64().unwrap_or(0) as f64 / 1e6,
            r["test"].as_str().unwrap_or(""),
            r["licence"].as_str().unwrap_or("")
        );
    }
    if rows.is_empty() {
        eprintln!("no models found in {}", dirs.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(", "));
    } else {
        let from: Vec<String> =
            dirs.iter().zip(&per_dir).filter(|&(_, &n)| n > 0).map(|(d, n)| format!("{} ({n})", d.display())).collect();
        println!("from {}", from.join(", "));
    }
    Ok(ExitCode::SUCCESS)
}
