//! `tatra eval` agrees with the official evaluator (`udeval -v` and `udeval -v -c` from
//! udtools 0.2.9) to the last printed digit on 24 gold/system pairs from 14 treebanks
//! that differ in labels, heads, sentence boundaries, token boundaries and multi-word
//! tokens. The expected tables were printed by the official evaluator
//! (scripts/udeval-fixtures.sh) and are committed under tests/fixtures/udeval.

use std::path::Path;

use tatra_eval::perturb::{fixture_pairs, perturb};

#[test]
fn agrees_with_the_official_evaluator() {
    let Some(ud) = tatra_core::shared::shared_path("ud") else { return };
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/udeval");
    let dir = tempfile::tempdir().unwrap();
    let mut checked = 0;
    for (name, gold, p) in fixture_pairs() {
        let gold = ud.join(gold);
        if !gold.exists() {
            eprintln!("SKIP {name}: {} not found", gold.display());
            continue;
        }
        let doc = tatra_core::conllu::read_file(&gold).unwrap();
        let sys_path = dir.path().join(format!("{name}.conllu"));
        std::fs::write(&sys_path, tatra_core::conllu::to_string(&perturb(&doc, &p))).unwrap();
        let ev = tatra_eval::evaluate_files(&gold, &sys_path).unwrap_or_else(|e| panic!("{name}: {e}"));

        let expected = std::fs::read_to_string(fixtures.join(format!("{name}.txt"))).unwrap();
        assert_eq!(ev.table(true) + "\n", expected, "{name}: table differs from udeval -v");
        let expected = std::fs::read_to_string(fixtures.join(format!("{name}.counts.txt"))).unwrap();
        assert_eq!(ev.counts_table(true) + "\n", expected, "{name}: counts differ from udeval -v -c");

        // The JSON carries the same figures as the table.
        let json = ev.to_json(true);
        for line in expected_lines(&fixtures.join(format!("{name}.txt"))) {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let m = &json[cells[0]];
            for (i, key) in ["precision", "recall", "f1", "aligned_accuracy"].iter().enumerate() {
                let want = cells[i + 1];
                let got = &m[*key];
                if want.is_empty() {
                    assert!(got.is_null(), "{name} {} {key}", cells[0]);
                } else {
                    assert_eq!(format!("{:.2}", got.as_f64().unwrap()), want, "{name} {} {key}", cells[0]);
                }
            }
        }
        checked += 1;
    }
    eprintln!("{checked} pairs agree with udeval");
    if checked > 0 {
        assert_eq!(checked, fixture_pairs().len());
    }
}

fn expected_lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path).unwrap().lines().skip(2).map(str::to_string).collect()
}

#[test]
fn mismatched_text_is_a_clear_error() {
    let gold = tatra_core::conllu::read_str("1\tab\t_\t_\t_\t_\t0\troot\t_\t_\n\n", "g").unwrap();
    let sys = tatra_core::conllu::read_str("1\tac\t_\t_\t_\t_\t0\troot\t_\t_\n\n", "s").unwrap();
    let err = tatra_eval::evaluate_documents(&gold, &sys).unwrap_err().to_string();
    assert!(err.starts_with("The concatenation of tokens in gold file and in system file differ!"), "{err}");
    assert!(err.ends_with("First 20 differing characters in gold file: 'b' and system file: 'c'"), "{err}");
}
