//! Reading every CoNLL-U file of shared/ud and writing it back gives the same bytes.

use tatra_core::conllu::{Reader, write_sentence};

#[test]
fn every_ud_file_round_trips_byte_for_byte() {
    let files = tatra_core::shared::ud_files();
    if files.is_empty() {
        eprintln!("SKIP: no UD files found");
        return;
    }
    let mut sentences = 0usize;
    for path in &files {
        let original = std::fs::read(path).unwrap();
        let mut out = Vec::with_capacity(original.len());
        for sent in Reader::open(path).unwrap() {
            let sent = sent.unwrap_or_else(|e| panic!("{e}"));
            write_sentence(&mut out, &sent).unwrap();
            sentences += 1;
        }
        if out != original {
            let at = out.iter().zip(&original).position(|(a, b)| a != b).unwrap_or(out.len().min(original.len()));
            panic!(
                "{} does not round-trip; first difference at byte {at}: {:?} vs {:?}",
                path.display(),
                String::from_utf8_lossy(&original[at.saturating_sub(40)..(at + 40).min(original.len())]),
                String::from_utf8_lossy(&out[at.saturating_sub(40)..(at + 40).min(out.len())]),
            );
        }
    }
    eprintln!("{} files, {sentences} sentences round-tripped", files.len());
    assert!(files.len() >= 40, "expected the ~47 UD files of shared/ud, found {}", files.len());
}
