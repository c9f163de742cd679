//! tatra-posdep owns the joint tagger, lemmatizer and dependency parser (trankit's
//! "posdep"): one adapter set per language over the shared encoder, with heads on word
//! vectors for UPOS, XPOS, UFeats, lemma edit rules (plus a training lexicon) and a
//! biaffine parser decoded into a single-root tree.
//!
//! - [`data`]: label vocabularies and training examples from CoNLL-U;
//! - [`lemma`]: edit rules from form to lemma, casing handled;
//! - [`model`]: the heads and the network (adapted top layers, optional scalar mix);
//! - [`run`]: packages, annotation of sentences (gold or predicted tokenization);
//! - [`tree`]: Chu-Liu/Edmonds with exactly one root;
//! - [`train`]: `tatra train posdep` (cached lower layers, early stopping, resume).
pub mod data;
pub mod lemma;
pub mod model;
pub mod run;
pub mod train;
pub mod tree;
