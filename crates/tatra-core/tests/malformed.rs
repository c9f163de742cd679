//! Every kind of malformed CoNLL-U gives an error naming the file, the line and the
//! problem, and never a panic.

use tatra_core::conllu::{Reader, validate};

const W1: &str = "1\tA\ta\tNOUN\t_\t_\t0\troot\t_\t_";
const W2: &str = "2\tb\tb\tNOUN\t_\t_\t1\tnmod\t_\t_";

/// The errors of a CoNLL-U text, as "line: message".
fn errors(text: &[u8]) -> Vec<String> {
    let (_, errs) = validate(Reader::new(text, "bad.conllu"));
    errs.iter()
        .map(|e| {
            let s = e.to_string();
            assert!(s.starts_with(&format!("bad.conllu:{}: ", e.line)), "{s}");
            s
        })
        .collect()
}

fn one_error(text: &str) -> String {
    let e = errors(text.as_bytes());
    assert_eq!(e.len(), 1, "{e:?}");
    e[0].clone()
}

#[test]
fn wrong_column_count() {
    let e = one_error(&format!("# c\n{W1}\n2\tb\tb\tNOUN\t_\n\n"));
    assert_eq!(e, "bad.conllu:3: expected 10 tab-separated columns, found 5");
}

#[test]
fn bad_id() {
    let e = one_error(&format!("{W1}\nx\tb\tb\tNOUN\t_\t_\t1\tnmod\t_\t_\n\n"));
    assert!(e.starts_with("bad.conllu:2: bad ID 'x'"), "{e}");
    let e = one_error(&format!("{W1}\n02\tb\tb\tNOUN\t_\t_\t1\tnmod\t_\t_\n\n"));
    assert!(e.starts_with("bad.conllu:2: bad ID '02'"), "{e}");
}

#[test]
fn non_consecutive_id() {
    let e = one_error(&format!("{W1}\n3\tb\tb\tNOUN\t_\t_\t1\tnmod\t_\t_\n\n"));
    assert_eq!(e, "bad.conllu:2: word ID 3 is out of sequence: expected 2");
}

#[test]
fn mwt_range_not_covering_its_words() {
    let e = one_error(&format!("{W1}\n2-3\tbc\t_\t_\t_\t_\t_\t_\t_\t_\n{W2}\n\n"));
    assert_eq!(e, "bad.conllu:4: multi-word token 2-3 (line 2) does not cover its words: word 3 is missing");
    let e = one_error(&format!("{W1}\n3-4\tbc\t_\t_\t_\t_\t_\t_\t_\t_\n{W2}\n\n"));
    assert!(e.starts_with("bad.conllu:2: multi-word token 3-4 must start at the next word (2)"), "{e}");
}

#[test]
fn head_out_of_range_and_cycle() {
    let e = one_error(&format!("{W1}\n2\tb\tb\tNOUN\t_\t_\t7\tnmod\t_\t_\n\n"));
    assert_eq!(e, "bad.conllu:1: HEAD 7 of word 2 is out of range: the sentence has 2 words");
    let e = one_error(&format!(
        "{W1}\n2\tb\tb\tNOUN\t_\t_\t3\tnmod\t_\t_\n3\tc\tc\tNOUN\t_\t_\t2\tnmod\t_\t_\n\n"
    ));
    assert_eq!(e, "bad.conllu:1: the dependency tree has a cycle through words 2, 3");
    let e = one_error(&format!("{W1}\n2\tb\tb\tNOUN\t_\t_\t0\troot\t_\t_\n\n"));
    assert!(e.contains("2 roots"), "{e}");
    let e = one_error(&format!("{W1}\n2\tb\tb\tNOUN\t_\t_\t-1\tnmod\t_\t_\n\n"));
    assert!(e.starts_with("bad.conllu:2: bad HEAD '-1'"), "{e}");
}

#[test]
fn empty_field() {
    let e = one_error(&format!("{W1}\n2\tb\t\tNOUN\t_\t_\t1\tnmod\t_\t_\n\n"));
    assert_eq!(e, "bad.conllu:2: column 3 (LEMMA) is empty; use `_` for an unspecified value");
}

#[test]
fn invalid_utf8() {
    let mut text = format!("{W1}\n").into_bytes();
    text.extend_from_slice(b"2\tb\xff\xfe\tb\tNOUN\t_\t_\t1\tnmod\t_\t_\n\n");
    let e = errors(&text);
    assert_eq!(e.len(), 1);
    assert!(e[0].starts_with("bad.conllu:2: line is not valid UTF-8 (first bad byte at column 4)"), "{}", e[0]);
}

#[test]
fn no_final_blank_line() {
    let e = one_error(&format!("{W1}\n"));
    assert_eq!(e, "bad.conllu:1: the file does not end with a blank line after its last sentence");
}

#[test]
fn ten_megabyte_line() {
    let mut text = format!("{W1}\n\n# text = ").into_bytes();
    text.extend(std::iter::repeat_n(b'a', 10 << 20));
    text.extend_from_slice(format!("\n{W1}\n\n{W1}\n\n").as_bytes());
    let (n, errs) = validate(Reader::new(&text[..], "bad.conllu"));
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0].to_string(), "bad.conllu:3: line is longer than 1048576 bytes; this is not CoNLL-U (is it a plain-text file?)");
    // The reader goes on after the bad sentence.
    assert_eq!(n, 2);
}

#[test]
fn empty_sentence_and_comment_inside() {
    let e = one_error(&format!("{W1}\n\n\n{W1}\n\n"));
    assert!(e.starts_with("bad.conllu:3: empty sentence"), "{e}");
    let e = one_error(&format!("{W1}\n# late\n\n"));
    assert!(e.starts_with("bad.conllu:2: comment line inside a sentence"), "{e}");
}

#[test]
fn empty_node_out_of_place() {
    let e = one_error(&format!("{W1}\n2.1\tx\t_\t_\t_\t_\t_\t_\t_\t_\n{W2}\n\n"));
    assert_eq!(e, "bad.conllu:2: empty node 2.1 is out of place: expected 1.1");
}

#[test]
fn missing_file() {
    let err = Reader::open("/nonexistent/x.conllu").err().unwrap();
    assert!(err.to_string().starts_with("/nonexistent/x.conllu:0: cannot read:"), "{err}");
}
