//! The `tatra` command line.

mod cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// tatra: multilingual NLP pipelines on one frozen transformer with small
/// per-language adapters — tokenization, tagging, lemmatization, parsing and NER
/// into CoNLL-U, and the official CoNLL 2018 evaluation.
#[derive(Parser)]
#[command(name = "tatra", version, about, long_about = None, propagate_version = true)]
#[command(after_help = "Exit codes: 0 success; 1 the input or data is wrong (the message says where); 2 bad command-line usage.")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Eval(cmd::eval::Args),
    #[command(name = "eval-ner")]
    EvalNer(cmd::eval_ner::Args),
    Validate(cmd::validate::Args),
    Text(cmd::text::Args),
    Annotate(cmd::annotate::Args),
    Train(cmd::train::Args),
    Models(cmd::models::Args),
    Bench(cmd::bench::Args),
    #[command(name = "import-e5s1", hide = true)]
    ImportE5s1(cmd::import::Args),
}

fn main() -> ExitCode {
    // Rust ignores SIGPIPE, which turns `tatra eval … | head` into a panic on the next
    // print; restore the default so a closed pipe ends the process quietly.
    #[cfg(unix)]
    // SAFETY: called first thing in main, before any other thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Eval(a) => cmd::eval::run(a),
        Command::EvalNer(a) => cmd::eval_ner::run(a),
        Command::Validate(a) => cmd::validate::run(a),
        Command::Text(a) => cmd::text::run(a),
        Command::Annotate(a) => cmd::annotate::run(a),
        Command::Train(a) => cmd::train::run(a),
        Command::Models(a) => cmd::models::run(a),
        Command::Bench(a) => cmd::bench::run(a),
        Command::ImportE5s1(a) => cmd::import::run(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}
