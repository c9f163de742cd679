//! `Pipeline::new("slovak")` end to end from raw text with the shipped models.

use std::process::Command;

use tatra::Pipeline;
use tatra::core::conllu;

fn slovak() -> Pipeline {
    Pipeline::new("slovak").expect("the shipped Slovak models load")
}

#[test]
fn slovak_paragraph_gives_valid_conllu() {
    let p = slovak();
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/slovak.txt")).unwrap();
    let doc = p.annotate(&text).unwrap();
    assert!(doc.sentences.len() >= 4, "{} sentences", doc.sentences.len());
    assert_eq!(tatra::tokenize::rebuild_text(&doc), text);
    let out = conllu::to_string(&doc);
    // tatra's own validator (format, trees) …
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("slovak.conllu");
    std::fs::write(&f, &out).unwrap();
    let (n, errors) = conllu::validate_file(&f);
    assert!(errors.is_empty(), "{errors:?}\n{out}");
    assert_eq!(n, doc.sentences.len());
    // … and the official UD validator at level 2, where it is installed.
    match Command::new("udvalidate").args(["--lang", "sk", "--level", "2"]).arg(&f).output() {
        Ok(o) => assert!(o.status.success(), "udvalidate:\n{}{}\n{out}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr)),
        Err(_) => eprintln!("skipped the official validator: udvalidate is not installed (pip install udtools)"),
    }
}

#[test]
fn slovak_test_raw_text_regression_guard() {
    let Some(test) = tatra::core::shared::shared_path("ud/UD_Slovak-SNK/sk_snk-ud-test.conllu") else { return };
    let mut gold = conllu::read_file(&test).unwrap();
    gold.sentences.truncate(200);
    let text = tatra::tokenize::data::raw_text(&gold);
    let pred = slovak().annotate(&text).unwrap();
    let ev = tatra::eval::evaluate_documents(&gold, &pred).unwrap();
    let f = |m: &str| ev.get(m).map_or(0.0, |s| s.f1 * 100.0);
    eprintln!("Slovak raw text, first 200 test sentences: Tokens {:.2} Sentences {:.2} UPOS {:.2} LAS {:.2}", f("Tokens"), f("Sentences"), f("UPOS"), f("LAS"));
    // Floors a little under what the shipped models measured (Tokens 99.61, Sentences
    // 90.86, UPOS 94.95, LAS 73.62); the issue asks for UPOS 94 (met) and LAS 85 (not met).
    for (m, floor) in [("Tokens", 99.0), ("Sentences", 89.5), ("UPOS", 94.0), ("LAS", 72.0)] {
        assert!(f(m) >= floor, "{m} {:.2} < {floor}", f(m));
    }
}

#[test]
fn one_and_two_threads_give_the_same_output() {
    let run = |threads: &str| {
        let o = Command::new(env!("CARGO_BIN_EXE_tatra"))
            .args(["annotate", "--lang", "slovak", "-q", "--threads", threads, concat!(env!("CARGO_MANIFEST_DIR"), "/examples/slovak.txt")])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        o.stdout
    };
    assert_eq!(run("1"), run("2"));
}

#[test]
fn blank_and_empty_input_give_empty_documents() {
    let p = slovak();
    assert!(p.annotate("").unwrap().sentences.is_empty());
    assert!(p.annotate(" \n\t\n").unwrap().sentences.is_empty());
}

#[test]
fn unknown_language_is_a_clear_error() {
    let e = Pipeline::new("klingon").err().map(|e| e.to_string()).unwrap_or_default();
    assert!(e.starts_with("unknown language 'klingon'; available: slovak (sk_snk, sk)"), "{e}");
}

#[test]
fn language_identifier_routes_paragraphs() {
    let id = tatra::langid::LangId::shipped().expect("models/langid.json");
    let (mut all, mut ok) = (0, 0);
    for (code, _, _, folder) in tatra::langs::LANGUAGES {
        let Some(test) = tatra::core::shared::shared_path(&format!("ud/{folder}/{code}-ud-test.conllu")) else { return };
        let doc = conllu::read_file(&test).unwrap();
        let texts: Vec<String> = doc.sentences.iter().map(|s| s.rebuilt_text()).collect();
        for chunk in texts.chunks(5) {
            all += 1;
            ok += usize::from(id.detect(&chunk.join(" "), &[]).as_deref() == Some(*code));
        }
    }
    let acc = 100.0 * ok as f64 / all as f64;
    eprintln!("language identification, five-sentence paragraphs: {acc:.2}%");
    assert!(acc >= 99.0, "{acc}");
}

#[test]
fn posdep_and_ner_together_equal_each_stage_alone() {
    // With both stages the encoder's lower layers run once and NER continues from
    // posdep's lower states; that must give what each stage gives on its own.
    let Some(test) = tatra::core::shared::shared_path("ud/UD_Slovak-SNK/sk_snk-ud-test.conllu") else { return };
    let gold = conllu::read_file(&test).unwrap();
    let mut doc = gold.clone();
    doc.sentences.truncate(300);
    let input = conllu::to_string(&doc);
    let build = |posdep: bool, ner: bool| {
        Pipeline::builder()
            .language("slovak")
            .stages(tatra::pipeline::Stages { tokenize: false, posdep, ner })
            .build()
            .expect("the shipped Slovak models load")
    };
    let both = build(true, true).annotate_conllu(&input).unwrap();
    let posdep = build(true, false).annotate_conllu(&input).unwrap();
    let ner = build(false, true).annotate_conllu(&input).unwrap();
    let (mut words, mut same_words, mut sents, mut same_ents) = (0, 0, 0, 0);
    for ((b, p), n) in both.sentences.iter().zip(&posdep.sentences).zip(&ner.sentences) {
        for (wb, wp) in b.tokens.iter().flat_map(|t| &t.words).zip(p.tokens.iter().flat_map(|t| &t.words)) {
            words += 1;
            same_words += usize::from((&wb.upos, &wb.feats, &wb.lemma, wb.head, &wb.deprel) == (&wp.upos, &wp.feats, &wp.lemma, wp.head, &wp.deprel));
        }
        sents += 1;
        same_ents += usize::from(b.entities == n.entities);
    }
    eprintln!("joint vs alone: {same_words}/{words} words, {same_ents}/{sents} sentences' entities the same");
    assert_eq!(sents, 300);
    assert!(both.sentences.iter().any(|s| !s.entities.is_empty()), "no entities found");
    assert_eq!(same_words, words);
    assert_eq!(same_ents, sents);
}
