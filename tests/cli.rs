//! The `tatra` binary as a user runs it.

use std::process::Command;

fn tatra() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tatra"))
}

#[test]
fn validate_reports_file_line_and_problem() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.conllu");
    std::fs::write(&bad, "1\ta\t_\t_\t_\t_\t0\troot\t_\t_\n2\tb\t_\t_\t_\t_\t5\tdep\t_\t_\n\n").unwrap();
    let out = tatra().arg("validate").arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.conllu:1: HEAD 5 of word 2 is out of range: the sentence has 2 words"), "{err}");

    let missing = tatra().args(["validate", "/nonexistent.conllu"]).output().unwrap();
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("/nonexistent.conllu:0: cannot read"));
}

#[test]
fn validate_accepts_ud_files() {
    let Some(f) = tatra::core::shared::shared_path("ud/UD_French-Sequoia/fr_sequoia-ud-dev.conllu") else { return };
    let out = tatra().arg("validate").arg(&f).output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("OK (412 sentences)"));
}

#[test]
fn eval_json_and_table() {
    let Some(f) = tatra::core::shared::shared_path("ud/UD_Tamil-TTB/ta_ttb-ud-dev.conllu") else { return };
    let out = tatra().arg("eval").arg(&f).arg(&f).arg("--json").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["LAS"]["f1"], 100.0);
    assert_eq!(v["UPOS"]["aligned_accuracy"], 100.0);
    assert!(v["Tokens"]["aligned_accuracy"].is_null());

    let out = tatra().arg("eval").arg(&f).arg(&f).arg("--no-enhanced").output().unwrap();
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.starts_with("Metric     | Precision |    Recall |  F1 Score | AligndAcc\n"));
    assert!(table.contains("\nBLEX       |    100.00 |    100.00 |    100.00 |    100.00\n"));
    assert!(!table.contains("ELAS"));
}

#[test]
fn eval_of_different_texts_fails_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let (g, s) = (dir.path().join("g.conllu"), dir.path().join("s.conllu"));
    std::fs::write(&g, "1\tab\t_\t_\t_\t_\t0\troot\t_\t_\n\n").unwrap();
    std::fs::write(&s, "1\tax\t_\t_\t_\t_\t0\troot\t_\t_\n\n").unwrap();
    let out = tatra().arg("eval").arg(&g).arg(&s).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("The concatenation of tokens in gold file and in system file differ!"));
}

#[test]
fn annotate_unknown_language_lists_the_available_ones() {
    let out = tatra().args(["annotate", "--lang", "klingon", "x.conllu"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown language 'klingon'; available: slovak (sk_snk, sk)"), "{err}");
}

#[test]
fn annotate_with_a_missing_model_names_it() {
    // Every shipped language now has all its stages, so the missing model is one given by
    // path; the discovery error ("looked for … in …") is tested in src/pipeline.rs.
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("x.conllu");
    std::fs::write(&input, "1\ta\t_\t_\t_\t_\t0\troot\t_\t_\n\n").unwrap();
    let missing = dir.path().join("posdep.zip");
    let out = tatra()
        .args(["annotate", "--lang", "japanese", "--input", "conllu", "--posdep"])
        .arg(&missing)
        .arg(&input)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&missing.display().to_string()) && err.contains("cannot read"), "{err}");
    // Said once, not repeated by the error chain.
    assert_eq!(err.matches("cannot read").count(), 1, "{err}");
}

#[test]
fn language_names_resolve() {
    use tatra::langs::resolve;
    assert_eq!(resolve("slovak"), Some("sk_snk"));
    assert_eq!(resolve("SK"), Some("sk_snk"));
    assert_eq!(resolve("sk_snk"), Some("sk_snk"));
    assert_eq!(resolve("english-lines"), Some("en_lines"));
    assert_eq!(resolve("fr"), Some("fr_sequoia"));
    assert_eq!(resolve("klingon"), None);
}

#[test]
fn annotate_unreadable_input_fails_before_loading_models() {
    let out = tatra().args(["annotate", "--lang", "slovak", "/nonexistent/input.txt"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot read /nonexistent/input.txt"), "{err}");
}

#[test]
fn annotate_reports_invalid_utf8_and_unwritable_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("latin1.txt");
    std::fs::write(&bad, b"Prv\xc3\xa1 veta.\nDruh\xe1 veta.\n").unwrap();
    let out = tatra().args(["annotate", "--lang", "slovak", "--input", "pretokenized"]).arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("latin1.txt:2: the input is not valid UTF-8"), "{err}");

    let good = dir.path().join("ok.txt");
    std::fs::write(&good, "Prvá veta .\n").unwrap();
    // A folder that does not exist: clear error, nothing written.
    let target = dir.path().join("no/such/folder/out.conllu");
    let out = tatra().args(["annotate", "--lang", "slovak", "--input", "pretokenized", "-q"]).arg(&good).arg("-o").arg(&target).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot write"), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!target.exists());
    // A full disk (/dev/full answers every write with ENOSPC).
    if let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") {
        let out = tatra().args(["annotate", "--lang", "slovak", "--input", "pretokenized", "-q"]).arg(&good).stdout(full).output().unwrap();
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("cannot write to standard output") && err.contains("No space left on device"), "{err}");
    }
    // Output to a file appears whole, through a rename.
    let target = dir.path().join("out.conllu");
    let out = tatra().args(["annotate", "--lang", "slovak", "--input", "pretokenized", "-q"]).arg(&good).arg("-o").arg(&target).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(&target).unwrap();
    assert!(text.starts_with("# sent_id = 1\n# text = Prvá veta .\n1\tPrvá\t"), "{text}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 3, "a temporary file was left behind");
}

#[cfg(unix)]
#[test]
fn interrupted_annotation_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.txt");
    std::fs::write(&input, "Toto je veta .\n".repeat(3000)).unwrap();
    let target = dir.path().join("out.conllu");
    let mut child = tatra().args(["annotate", "--lang", "slovak", "--input", "pretokenized", "-q"]).arg(&input).arg("-o").arg(&target).spawn().unwrap();
    // Wait until the temporary file exists (models loaded, writing started), then interrupt.
    let start = std::time::Instant::now();
    while std::fs::read_dir(dir.path()).unwrap().count() < 2 && start.elapsed().as_secs() < 60 {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // SAFETY: sends SIGINT to our own child process.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let status = child.wait().unwrap();
    assert!(!status.success());
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left, vec![std::ffi::OsString::from("in.txt")], "files left after Ctrl-C");
}

#[test]
fn stages_pick_what_runs() {
    let text = "Bratislava je hlavné mesto Slovenska. Leží na Dunaji.";
    let run = |args: &[&str], input: &str| {
        let mut child = tatra()
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        // A run that fails before reading its input closes the pipe early.
        let _ = child.stdin.take().unwrap().write_all(input.as_bytes());
        child.wait_with_output().unwrap()
    };
    // Raw text without the tokenize stage: a usage problem, said plainly.
    let out = run(&["annotate", "--lang", "slovak", "--stages", "posdep", "-q"], text);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("raw text needs the tokenize stage"));
    // Tokenize only: sentences and tokens, no tags.
    let out = run(&["annotate", "--lang", "slovak", "--stages", "tokenize", "-q"], text);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let conllu = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(conllu.matches("# text = ").count(), 2, "{conllu}");
    assert!(conllu.lines().filter(|l| l.starts_with(|c: char| c.is_ascii_digit())).all(|l| l.split('\t').nth(3) == Some("_")));
    // Posdep then NER alone on that CoNLL-U: the tokens are kept, tags and entities added.
    let out = run(&["annotate", "--lang", "slovak", "--input", "conllu", "--stages", "posdep", "-q"], &conllu);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let tagged = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(tagged.contains("\tPROPN\t") && !tagged.contains("NER="), "{tagged}");
    let out = run(&["annotate", "--lang", "slovak", "--input", "conllu", "--stages", "ner", "-q"], &tagged);
    let with_ner = String::from_utf8_lossy(&out.stdout);
    assert!(with_ner.contains("NER=B-LOC") && with_ner.contains("\tPROPN\t"), "{with_ner}");
}

/// `tatra text` gives the raw text of a treebank file; annotating it and scoring against
/// the file works (the concatenations of tokens agree), and `-o` writes the same.
#[test]
fn text_of_a_treebank_file() {
    let Some(f) = tatra::core::shared::shared_path("ud/UD_French-Sequoia/fr_sequoia-ud-dev.conllu") else { return };
    let out = tatra().arg("text").arg(&f).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let doc = tatra::core::conllu::read_file(&f).unwrap();
    // Every sentence's text, in order, with only whitespace between them.
    let flat = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
    let want: String = doc.sentences.iter().map(|s| flat(&s.rebuilt_text())).collect();
    assert_eq!(flat(&text), want);
    assert!(text.ends_with('\n') && !text.ends_with("\n\n"));
    let dir = tempfile::tempdir().unwrap();
    let o = dir.path().join("dev.txt");
    assert!(tatra().arg("text").arg(&f).arg("-o").arg(&o).status().unwrap().success());
    assert_eq!(std::fs::read_to_string(&o).unwrap(), text);
    let bad = tatra().args(["text", "/nonexistent.conllu"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("/nonexistent.conllu"));
}
