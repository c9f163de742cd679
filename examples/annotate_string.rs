//! Annotate a string with the embedded Slovak models and print CoNLL-U.
//!
//!     cargo run --release --example annotate_string

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let pipeline = tatra::Pipeline::new("slovak")?;
    let doc = pipeline.annotate("Dobrý deň. Ako sa máte?")?;
    for sentence in &doc.sentences {
        for word in sentence.words() {
            println!("{}\t{}\t{}\t{:?}\t{}", word.form, word.lemma, word.upos, word.head, word.deprel);
        }
        println!();
    }
    Ok(())
}
