//! tatra: multilingual NLP pipelines in Rust on one frozen multilingual transformer with
//! small per-language, per-stage adapters (after trankit).
//!
//! This facade crate re-exports the workspace's crates under one name and holds the
//! `tatra` command-line binary. See `docs/architecture.md` for how they fit together.

pub use tatra_core as core;
pub use tatra_core::{Document, Sentence, Token, Word};
pub use tatra_eval as eval;
pub use tatra_encoder as encoder;
pub use tatra_posdep as posdep;
pub use tatra_tokenize as tokenize;
pub use tatra_ner as ner;

pub mod langid;
pub mod langs;
pub mod pipeline;

pub use pipeline::Pipeline;
