//! UniversalNER's IOB2 files: `ID<TAB>FORM<TAB>TAG<TAB>…` per token, `#` comments, a blank
//! line after each sentence.

use std::path::Path;

/// One sentence of an IOB2 file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NerSentence {
    pub comments: Vec<String>,
    pub forms: Vec<String>,
    pub tags: Vec<String>,
}

/// Reads an IOB2 file; errors name the file and line.
pub fn read_file(path: &Path) -> Result<Vec<NerSentence>, String> {
    let text = std::fs::read(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    let text = String::from_utf8(text).map_err(|e| format!("{}: not valid UTF-8 (byte {})", path.display(), e.utf8_error().valid_up_to()))?;
    read_str(&text, &path.display().to_string())
}

pub fn read_str(text: &str, name: &str) -> Result<Vec<NerSentence>, String> {
    let mut out = Vec::new();
    let mut cur = NerSentence::default();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            if !cur.forms.is_empty() {
                out.push(std::mem::take(&mut cur));
            } else {
                cur.comments.clear();
            }
            continue;
        }
        if line.starts_with('#') {
            cur.comments.push(line.to_string());
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() < 3 {
            return Err(format!("{name}:{}: expected ID, FORM and TAG separated by tabs, found {} column(s)", i + 1, cols.len()));
        }
        let tag = cols[2].trim();
        if !(tag == "O" || tag.starts_with("B-") || tag.starts_with("I-")) {
            return Err(format!("{name}:{}: tag '{tag}' is not O, B-TYPE or I-TYPE", i + 1));
        }
        cur.forms.push(cols[1].to_string());
        cur.tags.push(tag.to_string());
    }
    if !cur.forms.is_empty() {
        out.push(cur);
    }
    Ok(out)
}

/// Writes sentences as IOB2 (`ID FORM TAG - -`).
pub fn to_string(sentences: &[NerSentence]) -> String {
    let mut s = String::new();
    for sent in sentences {
        for c in &sent.comments {
            s.push_str(c);
            s.push('\n');
        }
        for (i, (f, t)) in sent.forms.iter().zip(&sent.tags).enumerate() {
            s.push_str(&format!("{}\t{f}\t{t}\t-\t-\n", i + 1));
        }
        s.push('\n');
    }
    s
}
