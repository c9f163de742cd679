//! `tatra annotate`: raw text, pretokenized text or CoNLL-U in; CoNLL-U or JSON out.
//!
//! Streaming: the input is read in blocks of whole paragraphs (raw text, cut after a
//! blank line), lines (pretokenized) or sentences (CoNLL-U) of about `BLOCK_CHARS`
//! characters; each block is annotated and written before the next is read, so memory
//! does not grow with the input. Output to a file goes to a temporary file in the same
//! folder that is renamed at the end: an error or Ctrl-C leaves no half-written file.

use std::io::{BufRead, BufReader, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use tatra::pipeline::{Input, Pipeline, Stages};

/// Characters per block (whole paragraphs / sentences; a longer paragraph is one block).
const BLOCK_CHARS: usize = 50_000;

/// Annotate text with a language's models
#[derive(clap::Args)]
pub struct Args {
    /// Language: trankit-style name (slovak, english-lines), treebank code (sk_snk) or ISO code (sk).
    #[arg(long)]
    lang: String,
    /// Input files (default or `-`: standard input); their annotations are written one after another.
    files: Vec<PathBuf>,
    /// raw: plain text, a blank line between paragraphs; pretokenized: one sentence per
    /// line, tokens separated by spaces; conllu: keep the input's sentences, tokens and words.
    #[arg(long, default_value = "raw", value_parser = ["raw", "pretokenized", "conllu"])]
    input: String,
    /// Output format.
    #[arg(long, default_value = "conllu", value_parser = ["conllu", "json"])]
    format: String,
    /// Output file (written atomically); default: standard output.
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// Stages to run, comma-separated (raw input needs tokenize; ner runs where the
    /// language has a NER package).
    #[arg(long, value_delimiter = ',', default_value = "tokenize,posdep,ner", value_parser = ["tokenize", "posdep", "ner"])]
    stages: Vec<String>,
    /// A posdep package to use instead of the shipped one.
    #[arg(long)]
    posdep: Option<PathBuf>,
    /// A tokenize package to use instead of the shipped one.
    #[arg(long)]
    tokenize: Option<PathBuf>,
    /// cpu, gpu or auto (default: $TATRA_DEVICE, else cpu).
    #[arg(long)]
    device: Option<tatra_encoder::device::DeviceChoice>,
    /// Worker threads for the CPU kernels (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// No progress bar or summary.
    #[arg(long, short)]
    quiet: bool,
}

/// Where annotations (and `tatra text`) go: standard output, or a temporary file renamed
/// at the end (removed on Ctrl-C or a failed write).
pub(super) enum Sink {
    Stdout(std::io::StdoutLock<'static>),
    File { tmp: PathBuf, out: PathBuf, file: std::io::BufWriter<std::fs::File> },
}

impl Sink {
    pub(super) fn open(output: Option<&Path>) -> anyhow::Result<Self> {
        match output {
            None => Ok(Sink::Stdout(std::io::stdout().lock())),
            Some(out) => {
                let name = out.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_else(|| "out".into());
                let tmp = out.with_file_name(format!(".{name}.tatra-tmp-{}", std::process::id()));
                let file = std::fs::File::create(&tmp).with_context(|| format!("cannot write {}: check that the folder exists and is writable", out.display()))?;
                remove_on_interrupt(&tmp);
                Ok(Sink::File { tmp, out: out.to_path_buf(), file: std::io::BufWriter::new(file) })
            }
        }
    }

    pub(super) fn write(&mut self, bytes: &[u8]) -> anyhow::Result<()> {
        let r = match self {
            Sink::Stdout(s) => s.write_all(bytes),
            Sink::File { file, .. } => file.write_all(bytes),
        };
        match (r, self) {
            (Ok(()), _) => Ok(()),
            (Err(e), Sink::Stdout(_)) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
            (Err(e), Sink::Stdout(_)) => Err(anyhow::anyhow!("cannot write to standard output: {e}")),
            (Err(e), Sink::File { out, .. }) => Err(anyhow::anyhow!("cannot write {}: {e}", out.display())),
        }
    }

    pub(super) fn finish(self) -> anyhow::Result<()> {
        match self {
            Sink::Stdout(mut s) => match s.flush() {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(anyhow::anyhow!("cannot write to standard output: {e}")),
                _ => Ok(()),
            },
            Sink::File { tmp, out, file } => {
                let done = file
                    .into_inner()
                    .map_err(|e| anyhow::anyhow!("cannot write {}: {}", out.display(), e.error()))
                    .and_then(|f| f.sync_all().with_context(|| format!("cannot write {}", out.display())))
                    .and_then(|()| std::fs::rename(&tmp, &out).with_context(|| format!("cannot write {}", out.display())));
                if done.is_err() {
                    let _ = std::fs::remove_file(&tmp);
                }
                done
            }
        }
    }

    pub(super) fn abandon(self) {
        if let Sink::File { tmp, .. } = self {
            let _ = std::fs::remove_file(tmp);
        }
    }
}

/// The temporary output file, for the signal handler.
#[cfg(unix)]
static TMP_PATH: std::sync::OnceLock<std::ffi::CString> = std::sync::OnceLock::new();

/// On Ctrl-C (SIGINT) or SIGTERM, remove the temporary output file before exiting, so an
/// interrupted run leaves nothing behind.
fn remove_on_interrupt(tmp: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let Ok(c) = std::ffi::CString::new(tmp.as_os_str().as_bytes()) else { return };
        if TMP_PATH.set(c).is_err() {
            return;
        }
        extern "C" fn on_signal(sig: libc::c_int) {
            if let Some(p) = TMP_PATH.get() {
                // SAFETY: unlink and _exit are async-signal-safe; the path is a valid C string.
                unsafe { libc::unlink(p.as_ptr()) };
            }
            // SAFETY: _exit ends the process without running anything else.
            unsafe { libc::_exit(128 + sig) };
        }
        // SAFETY: installs a handler that only calls async-signal-safe functions.
        unsafe {
            libc::signal(libc::SIGINT, on_signal as *const () as libc::sighandler_t);
            libc::signal(libc::SIGTERM, on_signal as *const () as libc::sighandler_t);
        }
    }
    #[cfg(not(unix))]
    let _ = tmp;
}

/// Reads blocks of whole paragraphs (raw), lines (pretokenized) or sentences (CoNLL-U).
struct Blocks<R: BufRead> {
    reader: R,
    name: String,
    input: Input,
    line: usize,
    done: bool,
}

impl<R: BufRead> Blocks<R> {
    fn next_block(&mut self) -> anyhow::Result<Option<(String, usize)>> {
        if self.done {
            return Ok(None);
        }
        let first_line = self.line + 1;
        let mut block = String::new();
        let mut buf = Vec::new();
        loop {
            buf.clear();
            let n = self.reader.read_until(b'\n', &mut buf).with_context(|| format!("reading {}", self.name))?;
            if n == 0 {
                self.done = true;
                break;
            }
            self.line += 1;
            let text = std::str::from_utf8(&buf).map_err(|e| {
                anyhow::anyhow!("{}:{}: the input is not valid UTF-8 (byte {} of the line); convert it to UTF-8 first", self.name, self.line, e.valid_up_to() + 1)
            })?;
            block.push_str(text);
            let blank = text.trim().is_empty();
            let boundary = match self.input {
                Input::Raw | Input::Conllu => blank,
                Input::Pretokenized => true,
            };
            if boundary && block.len() >= BLOCK_CHARS {
                // Raw text: keep the blank lines that follow with this block.
                if self.input == Input::Raw {
                    loop {
                        let more = self.reader.fill_buf().with_context(|| format!("reading {}", self.name))?;
                        let Some(&b) = more.first() else { break };
                        if b != b'\n' && b != b'\r' {
                            break;
                        }
                        self.reader.consume(1);
                        if b == b'\n' {
                            self.line += 1;
                        }
                        block.push(b as char);
                    }
                }
                break;
            }
        }
        if block.is_empty() { Ok(None) } else { Ok(Some((block, first_line))) }
    }
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    if let Some(t) = a.threads {
        rayon_threads(t)?;
    }
    if tatra::langs::resolve(&a.lang).is_none() {
        return Err(tatra::pipeline::PipelineError::UnknownLanguage { name: a.lang.clone(), available: tatra::pipeline::available() }.into());
    }
    let input = match a.input.as_str() {
        "pretokenized" => Input::Pretokenized,
        "conllu" => Input::Conllu,
        _ => Input::Raw,
    };
    let has = |s: &str| a.stages.iter().any(|x| x == s);
    if input == Input::Raw && !has("tokenize") {
        bail!("raw text needs the tokenize stage: add it to --stages, or give --input pretokenized or conllu");
    }
    let stages = Stages { tokenize: input == Input::Raw, posdep: has("posdep"), ner: has("ner") };
    let mut builder = Pipeline::builder().language(&a.lang).stages(stages);
    if let Some(d) = a.device {
        builder = builder.device(d);
    }
    if let Some(p) = &a.posdep {
        builder = builder.package("posdep", p);
    }
    if let Some(p) = &a.tokenize {
        builder = builder.package("tokenize", p);
    }
    // Fail on unreadable inputs before loading models.
    let files: Vec<Option<PathBuf>> =
        if a.files.is_empty() { vec![None] } else { a.files.iter().map(|f| (f.as_os_str() != "-").then(|| f.clone())).collect() };
    let mut total_bytes = 0u64;
    for f in files.iter().flatten() {
        let m = std::fs::metadata(f).with_context(|| format!("cannot read {}", f.display()))?;
        if m.is_dir() {
            bail!("cannot read {}: it is a folder", f.display());
        }
        total_bytes += m.len();
    }
    let pipeline = builder.build()?;
    let mut sink = Sink::open(a.output.as_deref())?;
    let show = !a.quiet && std::io::stderr().is_terminal();
    let bar = if show && total_bytes > 0 { ProgressBar::new(total_bytes) } else { ProgressBar::hidden() };
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {bytes}/{total_bytes} {msg} ETA {eta}").unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let started = Instant::now();
    let (mut words, mut sentences) = (0usize, 0usize);
    let json = a.format == "json";
    let mut json_count = 0usize;
    let mut chars_before = 0usize;
    if json {
        sink.write(b"{\"sentences\": [")?;
    }
    let result = (|| -> anyhow::Result<()> {
        for f in &files {
            let (reader, name): (Box<dyn BufRead>, String) = match f {
                Some(p) => (
                    Box::new(BufReader::new(std::fs::File::open(p).with_context(|| format!("cannot read {}", p.display()))?)),
                    p.display().to_string(),
                ),
                None => (Box::new(BufReader::new(std::io::stdin())), "<stdin>".into()),
            };
            let mut blocks = Blocks { reader, name: name.clone(), input, line: 0, done: false };
            while let Some((block, first_line)) = blocks.next_block()? {
                let doc = if input == Input::Conllu {
                    let mut d = tatra_core::conllu::read_str(&block, &name).map_err(|e| anyhow::anyhow!("{}", shift_line(&e.to_string(), &name, first_line)))?;
                    pipeline.annotate_document(&pipeline.languages[0], &mut d)?;
                    d
                } else {
                    pipeline.annotate_as(None, &block, input, sentences + 1)?
                };
                sentences += doc.sentences.len();
                let block_chars = block.chars().count();
                words += doc.word_count();
                bar.inc(block.len() as u64);
                let secs = started.elapsed().as_secs_f64().max(1e-9);
                bar.set_message(format!("{words} words, {:.0} words/s", words as f64 / secs));
                if json {
                    for (k, v) in tatra::pipeline::sentences_json(&doc, sentences - doc.sentences.len() + 1, chars_before).into_iter().enumerate() {
                        let sep = if json_count + k == 0 { "\n" } else { ",\n" };
                        sink.write(format!("{sep}{}", serde_json::to_string(&v)?).as_bytes())?;
                    }
                    json_count += doc.sentences.len();
                } else {
                    sink.write(tatra_core::conllu::to_string(&doc).as_bytes())?;
                }
                chars_before += block_chars;
            }
        }
        if json {
            sink.write(b"\n]}\n")?;
        }
        Ok(())
    })();
    bar.finish_and_clear();
    match result {
        Ok(()) => sink.finish()?,
        Err(e) => {
            sink.abandon();
            return Err(e);
        }
    }
    if !a.quiet {
        let secs = started.elapsed().as_secs_f64();
        eprintln!("{sentences} sentences, {words} words in {secs:.1} s ({:.0} words/s)", words as f64 / secs.max(1e-9));
    }
    Ok(ExitCode::SUCCESS)
}

/// CoNLL-U errors of a block name lines within the block: make them file lines.
fn shift_line(msg: &str, name: &str, first_line: usize) -> String {
    let prefix = format!("{name}:");
    if let Some(rest) = msg.strip_prefix(&prefix) {
        if let Some((n, tail)) = rest.split_once(':') {
            if let Ok(n) = n.parse::<usize>() {
                return format!("{name}:{}:{tail}", n + first_line - 1);
            }
        }
    }
    msg.to_string()
}

fn rayon_threads(n: usize) -> anyhow::Result<()> {
    if n == 0 {
        bail!("--threads must be at least 1");
    }
    // burn's CPU kernels run on rayon's global pool: size it before any tensor work.
    rayon::ThreadPoolBuilder::new().num_threads(n).build_global().context("cannot start the worker threads")?;
    Ok(())
}
