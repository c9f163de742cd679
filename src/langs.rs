//! Language names → shipped treebank models. Users may name a treebank code
//! (`sk_snk`), a trankit-style name (`slovak`, `english-lines`) or an ISO code (`sk`).

/// (treebank code, trankit-style names, ISO code, UD folder).
pub const LANGUAGES: &[(&str, &[&str], &str, &str)] = &[
    ("sk_snk", &["slovak"], "sk", "UD_Slovak-SNK"),
    ("fr_sequoia", &["french", "french-sequoia"], "fr", "UD_French-Sequoia"),
    ("en_lines", &["english", "english-lines"], "en", "UD_English-LinES"),
    ("el_gdt", &["greek"], "el", "UD_Greek-GDT"),
    ("hu_szeged", &["hungarian"], "hu", "UD_Hungarian-Szeged"),
    ("ta_ttb", &["tamil"], "ta", "UD_Tamil-TTB"),
    ("tr_imst", &["turkish"], "tr", "UD_Turkish-IMST"),
    ("vi_vtb", &["vietnamese"], "vi", "UD_Vietnamese-VTB"),
    ("cs_cltt", &["czech", "czech-cltt"], "cs", "UD_Czech-CLTT"),
    ("zh_gsd", &["chinese"], "zh", "UD_Chinese-GSD"),
    ("ja_gsd", &["japanese"], "ja", "UD_Japanese-GSD"),
    ("da_ddt", &["danish"], "da", "UD_Danish-DDT"),
];

/// The treebank code for a language name, treebank code or ISO code.
pub fn resolve(name: &str) -> Option<&'static str> {
    let n = name.trim().to_lowercase().replace('_', "-");
    LANGUAGES
        .iter()
        .find(|(code, names, iso, _)| code.replace('_', "-") == n || names.contains(&n.as_str()) || *iso == n)
        .map(|(code, ..)| *code)
}

/// Folders where models are looked up, in order: `$TATRA_MODELS`, the repository's
/// `models/`, the user cache (`$XDG_CACHE_HOME/tatra/models` or `~/.cache/tatra/models`).
pub fn model_dirs() -> Vec<std::path::PathBuf> {
    let mut v = Vec::new();
    if let Some(m) = std::env::var_os("TATRA_MODELS") {
        v.push(std::path::PathBuf::from(m));
    }
    v.push(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models"));
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".cache")));
    if let Some(c) = cache {
        v.push(c.join("tatra/models"));
    }
    v
}

/// The first existing `<dir>/<treebank>/<stage>.zip`.
pub fn find_package(treebank: &str, stage: &str) -> Option<std::path::PathBuf> {
    model_dirs().into_iter().map(|d| d.join(treebank).join(format!("{stage}.zip"))).find(|p| p.is_file())
}

/// The embedded encoder package: the first `<dir>/encoder/multilingual-e5-small` of
/// [`model_dirs`] that exists.
pub fn encoder_dir() -> Option<std::path::PathBuf> {
    model_dirs().into_iter().map(|d| d.join("encoder/multilingual-e5-small")).find(|p| p.is_dir())
}
