//! One module per subcommand.

pub mod eval;
pub mod import;
pub mod validate;
