//! tatra-core owns tatra's document model and its CoNLL-U input and output.
//!
//! Data flows one way through tatra: text → [`Document`] → stages → [`Document`] →
//! CoNLL-U / JSON. This crate defines the [`Document`] → [`Sentence`] → [`Token`] →
//! [`Word`] hierarchy (with empty nodes and entity spans), reads CoNLL-U as a stream of
//! sentences with format-level validation and precise errors ([`conllu::Reader`]), and
//! writes it back byte for byte ([`conllu::write_sentence`]).

pub mod conllu;
pub mod document;
pub mod rng;
pub mod shared;

pub use conllu::{ConlluError, ErrorKind, Reader};
pub use document::{Document, EmptyNode, Entity, Sentence, Token, UNSPECIFIED, Word, misc_get, misc_has, misc_set};
