//! x
pub mod lemma;
pub mod tree;
