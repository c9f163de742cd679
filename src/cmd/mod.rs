//! One module per subcommand.

pub mod annotate;
pub mod bench;
pub mod train;
pub mod eval;
pub mod eval_ner;
pub mod import;
pub mod models;
pub mod text;
pub mod validate;

/// The embedded encoder package (see `tatra::langs::encoder_dir`), or where it would be.
pub fn default_encoder_dir() -> std::path::PathBuf {
    tatra::langs::encoder_dir().unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models/encoder/multilingual-e5-small"))
}
