pub use tatra_core as core;
