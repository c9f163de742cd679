//! One pipeline, several languages over one shared encoder: each text goes to the
//! language it is given with.
//!
//!     cargo run --release --example multilingual

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let pipeline = tatra::Pipeline::builder().language("slovak").language("french").build()?;
    for (lang, text) in [("slovak", "Mám rád horské túry."), ("french", "Nous sommes allés au marché du village.")] {
        let doc = pipeline.annotate_in(lang, text)?;
        print!("{}", tatra::core::conllu::to_string(&doc));
    }
    Ok(())
}
