//! Errors of the encoder crate: each names the file (and tensor) and what to do.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum EncoderError {
    #[error("{path}: cannot read: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: {message}")]
    Format { path: PathBuf, message: String },
    #[error("{path}: tensor '{name}' is missing; is this a checkpoint of a BERT/XLM-RoBERTa encoder? ({hint})")]
    MissingTensor { path: PathBuf, name: String, hint: String },
    #[error("{path}: tensor '{name}' has shape {found:?}, expected {expected:?}")]
    Shape { path: PathBuf, name: String, found: Vec<usize>, expected: Vec<usize> },
    #[error("{path}: tensor '{name}' has dtype {dtype}, which tatra cannot read (f32, f16, bf16 or tatra's q4_0)")]
    Dtype { path: PathBuf, name: String, dtype: String },
    #[error("{path}: unsupported architecture '{found}': tatra's encoder runs BERT and XLM-RoBERTa models (model_type bert, xlm-roberta, roberta)")]
    Architecture { path: PathBuf, found: String },
    #[error("{path}: the tokenizer could not be loaded: {message}; a model folder needs the tokenizer.json saved with it")]
    Tokenizer { path: PathBuf, message: String },
    #[error("tokenization failed: {0}")]
    Encode(String),
    #[error("{0}")]
    Device(String),
}

pub type Result<T> = std::result::Result<T, EncoderError>;

pub(crate) fn io_err(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> EncoderError {
    let path = path.into();
    move |source| EncoderError::Io { path, source }
}

pub(crate) fn format_err(path: impl Into<PathBuf>, message: impl Into<String>) -> EncoderError {
    EncoderError::Format { path: path.into(), message: message.into() }
}
