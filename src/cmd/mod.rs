//! One module per subcommand.

pub mod annotate;
pub mod bench;
pub mod train;
pub mod eval;
pub mod import;
pub mod validate;

/// The embedded encoder package: `$TATRA_MODELS/encoder/multilingual-e5-small` when that
/// exists, else the repository's `models/encoder/multilingual-e5-small`.
pub fn default_encoder_dir() -> std::path::PathBuf {
    const REL: &str = "encoder/multilingual-e5-small";
    if let Some(m) = std::env::var_os("TATRA_MODELS") {
        let p = std::path::PathBuf::from(m).join(REL);
        if p.is_dir() {
            return p;
        }
    }
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models").join(REL)
}
