//! x
pub mod data;
pub mod lemma;
pub mod model;
pub mod run;
pub mod train;
pub mod tree;
