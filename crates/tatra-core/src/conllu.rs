//! CoNLL-U reading (streaming, validating) and writing (byte-exact).
//!
//! The reader yields one [`Sentence`] at a time and never holds more than one sentence
//! and one line (at most [`Reader::max_line_bytes`]) in memory. It checks the format
//! level of CoNLL-U (not the UD guidelines): ten tab-separated columns, no empty field,
//! consecutive IDs, multi-word-token ranges that cover their words, empty-node IDs in
//! place, HEAD within the sentence, no cycle, one root, valid UTF-8, a blank line after
//! every sentence. After an error inside a sentence it skips to the next blank line and
//! goes on, so a validator can report every bad sentence of a file.

use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Write};
use std::path::Path;

use crate::document::{Document, EmptyNode, Sentence, Token, UNSPECIFIED, Word};

/// The longest line accepted by default (1 MiB). No real CoNLL-U line comes near it.
pub const DEFAULT_MAX_LINE_BYTES: usize = 1 << 20;

const COLUMN_NAMES: [&str; 10] =
    ["ID", "FORM", "LEMMA", "UPOS", "XPOS", "FEATS", "HEAD", "DEPREL", "DEPS", "MISC"];

/// What is wrong with a CoNLL-U input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ErrorKind {
    #[error("cannot read: {0}")]
    Io(String),
    #[error("line is not valid UTF-8 (first bad byte at column {0}); save the file as UTF-8")]
    InvalidUtf8(usize),
    #[error("line is longer than {0} bytes; this is not CoNLL-U (is it a plain-text file?)")]
    LineTooLong(usize),
    #[error("expected 10 tab-separated columns, found {0}")]
    ColumnCount(usize),
    #[error("column {index} ({name}) is empty; use `_` for an unspecified value")]
    EmptyField { index: usize, name: &'static str },
    #[error("bad ID '{0}': expected an integer, a range like 3-4, or an empty node like 3.1")]
    BadId(String),
    #[error("word ID {found} is out of sequence: expected {expected}")]
    IdSequence { found: String, expected: usize },
    #[error("multi-word token {range} must start at the next word ({expected}) and span at least two words")]
    BadRange { range: String, expected: usize },
    #[error("multi-word token {range} (line {line}) does not cover its words: word {missing} is missing")]
    UnfinishedRange { range: String, line: usize, missing: usize },
    #[error("empty node {found} is out of place: expected {expected}")]
    EmptyNodeSequence { found: String, expected: String },
    #[error("bad HEAD '{0}': expected a word number or `_`")]
    BadHead(String),
    #[error("HEAD {head} of word {word} is out of range: the sentence has {words} words")]
    HeadOutOfRange { word: usize, head: usize, words: usize },
    #[error("the dependency tree has a cycle through words {0}")]
    Cycle(String),
    #[error("the sentence has {0} roots (words with HEAD 0); a tree has exactly one")]
    Roots(usize),
    #[error("comment line inside a sentence; comments go before the first word line")]
    CommentInsideSentence,
    #[error("line holds only whitespace; sentences are separated by an empty line")]
    WhitespaceLine,
    #[error("empty sentence (two blank lines in a row, or comments followed by a blank line)")]
    EmptySentence,
    #[error("the file does not end with a blank line after its last sentence")]
    NoFinalBlankLine,
}

/// An error in a CoNLL-U input, naming the file and the 1-based line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConlluError {
    pub path: String,
    pub line: usize,
    pub kind: ErrorKind,
}

impl fmt::Display for ConlluError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.path, self.line, self.kind)
    }
}

impl std::error::Error for ConlluError {}

/// Streaming CoNLL-U reader: an iterator of sentences.
pub struct Reader<R> {
    inner: R,
    path: String,
    line_no: usize,
    /// Lines longer than this are an error.
    pub max_line_bytes: usize,
    finished: bool,
    buf: Vec<u8>,
}

impl Reader<BufReader<File>> {
    /// Opens a file for reading; the error names the path.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, ConlluError> {
        let path = path.as_ref();
        let shown = path.display().to_string();
        let file = File::open(path).map_err(|e| ConlluError {
            path: shown.clone(),
            line: 0,
            kind: ErrorKind::Io(e.to_string()),
        })?;
        Ok(Reader::new(BufReader::new(file), shown))
    }
}

/// Reads a whole CoNLL-U file into a [`Document`].
pub fn read_file(path: impl AsRef<Path>) -> Result<Document, ConlluError> {
    let sentences = Reader::open(path)?.collect::<Result<Vec<_>, _>>()?;
    Ok(Document { sentences, text: None })
}

/// Parses CoNLL-U held in a string.
pub fn read_str(text: &str, name: &str) -> Result<Document, ConlluError> {
    let sentences = Reader::new(text.as_bytes(), name).collect::<Result<Vec<_>, _>>()?;
    Ok(Document { sentences, text: None })
}

enum Line {
    Text(String),
    Eof,
}

/// A multi-word token whose words are still being read.
struct OpenRange {
    token: Token,
    start: usize,
    end: usize,
    line: usize,
    label: String,
}

impl<R: BufRead> Reader<R> {
    /// A reader over any buffered input; `path` is the name used in error messages.
    pub fn new(inner: R, path: impl Into<String>) -> Self {
        Reader {
            inner,
            path: path.into(),
            line_no: 0,
            max_line_bytes: DEFAULT_MAX_LINE_BYTES,
            finished: false,
            buf: Vec::new(),
        }
    }

    fn err(&self, line: usize, kind: ErrorKind) -> ConlluError {
        ConlluError { path: self.path.clone(), line, kind }
    }

    /// Reads one line without its line break. Never buffers more than
    /// `max_line_bytes` (+ one read chunk) of an over-long line.
    fn read_line(&mut self) -> Result<Line, ErrorKind> {
        self.buf.clear();
        let mut too_long = false;
        let mut any = false;
        loop {
            let chunk = match self.inner.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(ErrorKind::Io(e.to_string())),
            };
            if chunk.is_empty() {
                break;
            }
            any = true;
            let (take, done) = match chunk.iter().position(|&b| b == b'\n') {
                Some(i) => (i + 1, true),
                None => (chunk.len(), false),
            };
            if !too_long {
                self.buf.extend_from_slice(&chunk[..take]);
                if self.buf.len() > self.max_line_bytes + 1 {
                    too_long = true;
                    self.buf.clear();
                }
            }
            self.inner.consume(take);
            if done {
                break;
            }
        }
        if !any {
            return Ok(Line::Eof);
        }
        self.line_no += 1;
        if too_long {
            return Err(ErrorKind::LineTooLong(self.max_line_bytes));
        }
        if self.buf.last() == Some(&b'\n') {
            self.buf.pop();
            if self.buf.last() == Some(&b'\r') {
                self.buf.pop();
            }
        }
        match std::str::from_utf8(&self.buf) {
            Ok(s) => Ok(Line::Text(s.to_string())),
            Err(e) => Err(ErrorKind::InvalidUtf8(e.valid_up_to() + 1)),
        }
    }

    /// After an error: skip to the line after the next blank line.
    fn resync(&mut self) {
        loop {
            match self.read_line() {
                Ok(Line::Text(l)) if l.is_empty() => return,
                Ok(Line::Eof) | Err(ErrorKind::Io(_)) => {
                    self.finished = true;
                    return;
                }
                _ => {}
            }
        }
    }

    fn read_sentence(&mut self) -> Result<Option<Sentence>, ConlluError> {
        let mut sent = Sentence::default();
        let mut open: Option<OpenRange> = None;
        let mut words = 0usize;
        let mut started = false;
        let mut first_line = 0usize;
        loop {
            let line = match self.read_line() {
                Ok(Line::Text(l)) => l,
                Ok(Line::Eof) => {
                    self.finished = true;
                    if started {
                        return Err(self.err(self.line_no, ErrorKind::NoFinalBlankLine));
                    }
                    return Ok(None);
                }
                Err(kind) => {
                    let fatal = matches!(kind, ErrorKind::Io(_));
                    let e = self.err(self.line_no, kind);
                    if fatal {
                        self.finished = true;
                    } else {
                        self.resync();
                    }
                    return Err(e);
                }
            };
            if !started {
                started = true;
                first_line = self.line_no;
            }
            if line.is_empty() {
                if let Some(r) = open.take() {
                    return Err(self.err(
                        self.line_no,
                        ErrorKind::UnfinishedRange { range: r.label, line: r.line, missing: words + 1 },
                    ));
                }
                if sent.tokens.is_empty() {
                    return Err(self.err(self.line_no, ErrorKind::EmptySentence));
                }
                check_tree(&sent, words).map_err(|k| self.err(first_line, k))?;
                return Ok(Some(sent));
            }
            if let Err(kind) = self.parse_line(&line, &mut sent, &mut open, &mut words) {
                let e = self.err(self.line_no, kind);
                self.resync();
                return Err(e);
            }
        }
    }

    fn parse_line(
        &self,
        line: &str,
        sent: &mut Sentence,
        open: &mut Option<OpenRange>,
        words: &mut usize,
    ) -> Result<(), ErrorKind> {
        if line.starts_with('#') {
            if !sent.tokens.is_empty() || open.is_some() || !sent.empty_nodes.is_empty() {
                return Err(ErrorKind::CommentInsideSentence);
            }
            sent.comments.push(line.to_string());
            return Ok(());
        }
        if line.trim().is_empty() {
            return Err(ErrorKind::WhitespaceLine);
        }
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() != 10 {
            return Err(ErrorKind::ColumnCount(cols.len()));
        }
        if let Some(index) = cols.iter().position(|c| c.is_empty()) {
            return Err(ErrorKind::EmptyField { index: index + 1, name: COLUMN_NAMES[index] });
        }
        let id = cols[0];
        let expected = *words + 1;
        if let Some((a, b)) = id.split_once('-') {
            let (start, end) = match (parse_index(a), parse_index(b)) {
                (Some(s), Some(e)) => (s, e),
                _ => return Err(ErrorKind::BadId(id.to_string())),
            };
            if open.is_some() {
                let r = open.as_ref().map(|r| (r.label.clone(), r.line)).unwrap_or_default();
                return Err(ErrorKind::UnfinishedRange { range: r.0, line: r.1, missing: expected });
            }
            if start != expected || end <= start {
                return Err(ErrorKind::BadRange { range: id.to_string(), expected });
            }
            let token = Token {
                form: cols[1].to_string(),
                words: Vec::with_capacity(end - start + 1),
                misc: cols[9].to_string(),
                range_columns: cols[2..9].iter().map(|s| s.to_string()).collect(),
                span: None,
            };
            *open = Some(OpenRange { token, start, end, line: self.line_no, label: id.to_string() });
            return Ok(());
        }
        if let Some((a, b)) = id.split_once('.') {
            let (major, minor) = match (a.parse::<usize>(), parse_index(b)) {
                (Ok(m), Some(n)) if is_plain_number(a) => (m, n),
                _ => return Err(ErrorKind::BadId(id.to_string())),
            };
            let next_minor = match sent.empty_nodes.last() {
                Some(e) if e.major == *words => e.minor + 1,
                _ => 1,
            };
            if major != *words || minor != next_minor {
                return Err(ErrorKind::EmptyNodeSequence {
                    found: id.to_string(),
                    expected: format!("{}.{}", words, next_minor),
                });
            }
            sent.empty_nodes.push(EmptyNode {
                major,
                minor,
                form: cols[1].to_string(),
                lemma: cols[2].to_string(),
                upos: cols[3].to_string(),
                xpos: cols[4].to_string(),
                feats: cols[5].to_string(),
                head: cols[6].to_string(),
                deprel: cols[7].to_string(),
                deps: cols[8].to_string(),
                misc: cols[9].to_string(),
            });
            return Ok(());
        }
        let n = parse_index(id).ok_or_else(|| ErrorKind::BadId(id.to_string()))?;
        if n != expected {
            return Err(ErrorKind::IdSequence { found: id.to_string(), expected });
        }
        let head = match cols[6] {
            UNSPECIFIED => None,
            h => Some(
                h.parse::<usize>()
                    .ok()
                    .filter(|_| is_plain_number(h))
                    .ok_or_else(|| ErrorKind::BadHead(h.to_string()))?,
            ),
        };
        let word = Word {
            id: n,
            form: cols[1].to_string(),
            lemma: cols[2].to_string(),
            upos: cols[3].to_string(),
            xpos: cols[4].to_string(),
            feats: cols[5].to_string(),
            head,
            deprel: cols[7].to_string(),
            deps: cols[8].to_string(),
            misc: cols[9].to_string(),
        };
        *words = n;
        match open {
            Some(r) => {
                debug_assert!(n >= r.start);
                r.token.words.push(word);
                if n == r.end {
                    if let Some(r) = open.take() {
                        sent.tokens.push(r.token);
                    }
                }
            }
            None => sent.tokens.push(Token::single(word)),
        }
        Ok(())
    }
}

fn is_plain_number(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'))
}

/// A positive integer written without sign or leading zeros.
fn parse_index(s: &str) -> Option<usize> {
    if !is_plain_number(s) {
        return None;
    }
    s.parse::<usize>().ok().filter(|&n| n > 0)
}

/// HEAD in range, no cycle, exactly one root (the last only when every word has a head).
fn check_tree(sent: &Sentence, n: usize) -> Result<(), ErrorKind> {
    let heads: Vec<Option<usize>> = sent.words().map(|w| w.head).collect();
    for (i, h) in heads.iter().enumerate() {
        if let Some(h) = *h {
            if h > n {
                return Err(ErrorKind::HeadOutOfRange { word: i + 1, head: h, words: n });
            }
        }
    }
    if let Some(cycle) = find_cycle(&heads) {
        let ids: Vec<String> = cycle.iter().map(|i| (i + 1).to_string()).collect();
        return Err(ErrorKind::Cycle(ids.join(", ")));
    }
    if heads.iter().all(Option::is_some) {
        let roots = heads.iter().filter(|h| **h == Some(0)).count();
        if roots != 1 {
            return Err(ErrorKind::Roots(roots));
        }
    }
    Ok(())
}

/// The words (0-based) of a cycle in a head vector (1-based heads, 0 = root), if any.
pub fn find_cycle(heads: &[Option<usize>]) -> Option<Vec<usize>> {
    // 0 = unvisited, 1 = on the current path, 2 = known to reach the root.
    let mut state = vec![0u8; heads.len()];
    for start in 0..heads.len() {
        let mut path = Vec::new();
        let mut cur = start;
        loop {
            match state[cur] {
                2 => break,
                1 => {
                    let pos = path.iter().position(|&p| p == cur).unwrap_or(0);
                    let mut cycle = path[pos..].to_vec();
                    cycle.sort_unstable();
                    return Some(cycle);
                }
                _ => {}
            }
            state[cur] = 1;
            path.push(cur);
            match heads[cur] {
                Some(h) if h >= 1 && h <= heads.len() => cur = h - 1,
                _ => break,
            }
        }
        for p in path {
            state[p] = 2;
        }
    }
    None
}

impl<R: BufRead> Iterator for Reader<R> {
    type Item = Result<Sentence, ConlluError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.finished {
            return None;
        }
        self.read_sentence().transpose()
    }
}

/// Writes one sentence, followed by its blank line.
pub fn write_sentence<W: Write>(out: &mut W, sent: &Sentence) -> io::Result<()> {
    for c in &sent.comments {
        writeln!(out, "{c}")?;
    }
    let mut empties = sent.empty_nodes.iter().peekable();
    let mut write_empties = |out: &mut W, after: usize| -> io::Result<()> {
        while let Some(e) = empties.next_if(|e| e.major <= after) {
            writeln!(
                out,
                "{}.{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                e.major, e.minor, e.form, e.lemma, e.upos, e.xpos, e.feats, e.head, e.deprel, e.deps, e.misc
            )?;
        }
        Ok(())
    };
    write_empties(out, 0)?;
    let mut next_id = 1usize;
    for t in &sent.tokens {
        if t.is_mwt() {
            let first = t.words.first().map_or(next_id, |w| w.id);
            let last = t.words.last().map_or(next_id, |w| w.id);
            write!(out, "{first}-{last}\t{}", t.form)?;
            for i in 0..7 {
                write!(out, "\t{}", t.range_columns.get(i).map_or(UNSPECIFIED, String::as_str))?;
            }
            writeln!(out, "\t{}", t.misc)?;
        }
        for w in &t.words {
            write!(out, "{}\t{}\t{}\t{}\t{}\t{}\t", w.id, w.form, w.lemma, w.upos, w.xpos, w.feats)?;
            match w.head {
                Some(h) => write!(out, "{h}")?,
                None => out.write_all(UNSPECIFIED.as_bytes())?,
            }
            writeln!(out, "\t{}\t{}\t{}", w.deprel, w.deps, w.misc)?;
            next_id = w.id + 1;
            write_empties(out, w.id)?;
        }
    }
    write_empties(out, usize::MAX)?;
    writeln!(out)
}

/// Writes a whole document.
pub fn write_document<W: Write>(out: &mut W, doc: &Document) -> io::Result<()> {
    for s in &doc.sentences {
        write_sentence(out, s)?;
    }
    Ok(())
}

/// A document as CoNLL-U text.
pub fn to_string(doc: &Document) -> String {
    let mut v = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = write_document(&mut v, doc);
    String::from_utf8(v).unwrap_or_default()
}

/// Checks a file at the CoNLL-U format level; returns every error found (after an error
/// the reader resumes at the next sentence) and the number of sentences read.
pub fn validate_file(path: impl AsRef<Path>) -> (usize, Vec<ConlluError>) {
    let reader = match Reader::open(path) {
        Ok(r) => r,
        Err(e) => return (0, vec![e]),
    };
    validate(reader)
}

/// [`validate_file`] over any reader.
pub fn validate<R: BufRead>(reader: Reader<R>) -> (usize, Vec<ConlluError>) {
    let mut n = 0;
    let mut errors = Vec::new();
    for item in reader {
        match item {
            Ok(_) => n += 1,
            Err(e) => errors.push(e),
        }
    }
    (n, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "# sent_id = 1\n# text = Du pain.\n1-2\tDu\t_\t_\t_\t_\t_\t_\t_\t_\n1\tDe\tde\tADP\t_\t_\t3\tcase\t_\t_\n2\tle\tle\tDET\t_\t_\t3\tdet\t_\t_\n3\tpain\tpain\tNOUN\t_\t_\t0\troot\t_\tSpaceAfter=No\n3.1\tx\t_\t_\t_\t_\t_\t_\t0:root\t_\n4\t.\t.\tPUNCT\t_\t_\t3\tpunct\t_\t_\n\n";

    fn parse(text: &str) -> Result<Document, ConlluError> {
        read_str(text, "t.conllu")
    }

    #[test]
    fn round_trip_sample() {
        let doc = parse(SAMPLE).unwrap();
        assert_eq!(doc.sentences.len(), 1);
        let s = &doc.sentences[0];
        assert_eq!(s.tokens.len(), 3);
        assert!(s.tokens[0].is_mwt());
        assert_eq!(s.word_count(), 4);
        assert_eq!(s.empty_nodes.len(), 1);
        assert_eq!(to_string(&doc), SAMPLE);
        assert_eq!(s.rebuilt_text(), "Du pain.");
    }

    #[test]
    fn resumes_after_error() {
        let bad = "1\ta\n\n1\tb\t_\t_\t_\t_\t0\troot\t_\t_\n\n";
        let (n, errs) = validate(Reader::new(bad.as_bytes(), "x"));
        assert_eq!(n, 1);
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].line, 1);
    }

    #[test]
    fn cycle_found() {
        assert_eq!(find_cycle(&[Some(2), Some(3), Some(1)]), Some(vec![0, 1, 2]));
        assert_eq!(find_cycle(&[Some(0), Some(1), Some(2)]), None);
        assert_eq!(find_cycle(&[Some(0), Some(3), Some(2)]), Some(vec![1, 2]));
    }
}
