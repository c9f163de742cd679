//! Annotate a raw-text file (a blank line between paragraphs) and write CoNLL-U.
//!
//!     cargo run --release --example annotate_file -- examples/slovak.txt out.conllu

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(input), Some(output)) = (args.get(1), args.get(2)) else {
        return Err("usage: annotate_file INPUT.txt OUTPUT.conllu".into());
    };
    let text = std::fs::read_to_string(input).map_err(|e| format!("cannot read {input}: {e}"))?;
    let pipeline = tatra::Pipeline::new("slovak")?;
    let doc = pipeline.annotate(&text)?;
    std::fs::write(output, tatra::core::conllu::to_string(&doc)).map_err(|e| format!("cannot write {output}: {e}"))?;
    eprintln!("{} sentences, {} words", doc.sentences.len(), doc.word_count());
    Ok(())
}
