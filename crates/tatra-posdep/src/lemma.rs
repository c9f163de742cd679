//! Lemmas as edit scripts: a lemma is predicted as a class that says how to turn the
//! form into it — strip a prefix and a suffix, add a prefix and a suffix around the
//! longest common substring, then fix the casing. Rules are learnt from training data,
//! so they generalise to unseen words of the same inflection.
//!
//! A rule is written `C|a|P|b|S`: case `C` (`l` lower, `t` title, `u` upper, `k` keep
//! the form's casing), strip `a` characters from the front and `b` from the end of the
//! form (lower-cased unless `k`), then add prefix `P` and suffix `S`. `_` is the rule for
//! an unspecified lemma.

/// The rule that turns `form` into `lemma`.
pub fn rule(form: &str, lemma: &str) -> String {
    if lemma == "_" {
        return "_".into();
    }
    let lower = lemma.to_lowercase();
    let case = if lemma == lower {
        'l'
    } else if lemma == lower.to_uppercase() {
        'u'
    } else if lemma == title(&lower) {
        't'
    } else {
        'k'
    };
    let (f, l): (Vec<char>, Vec<char>) = if case == 'k' {
        (form.chars().collect(), lemma.chars().collect())
    } else {
        (form.to_lowercase().chars().collect(), lower.chars().collect())
    };
    let (i, j, n) = longest_common_substring(&f, &l);
    let add_prefix: String = l[..j].iter().collect();
    let add_suffix: String = l[j + n..].iter().collect();
    let (cut_front, cut_back) = if n == 0 { (0, f.len()) } else { (i, f.len() - i - n) };
    let add_prefix = if n == 0 { String::new() } else { add_prefix };
    let add_suffix = if n == 0 { l.iter().collect() } else { add_suffix };
    format!("{case}|{cut_front}|{add_prefix}|{cut_back}|{add_suffix}")
}

/// Applies a rule; `None` when it does not fit the form (too short).
pub fn apply(form: &str, rule: &str) -> Option<String> {
    if rule == "_" {
        return Some("_".into());
    }
    let mut parts = rule.splitn(5, '|');
    let case = parts.next()?.chars().next()?;
    let cut_front: usize = parts.next()?.parse().ok()?;
    let prefix = parts.next()?;
    let cut_back: usize = parts.next()?.parse().ok()?;
    let suffix = parts.next()?;
    let base: Vec<char> = if case == 'k' { form.chars().collect() } else { form.to_lowercase().chars().collect() };
    if cut_front + cut_back > base.len() {
        return None;
    }
    let mid: String = base[cut_front..base.len() - cut_back].iter().collect();
    let out = format!("{prefix}{mid}{suffix}");
    if out.is_empty() {
        return None;
    }
    Some(match case {
        'u' => out.to_uppercase(),
        't' => title(&out),
        _ => out,
    })
}

fn title(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// (start in a, start in b, length) of the longest common substring (first found).
fn longest_common_substring(a: &[char], b: &[char]) -> (usize, usize, usize) {
    let mut best = (0, 0, 0);
    let mut prev = vec![0usize; b.len() + 1];
    for i in 1..=a.len() {
        let mut cur = vec![0usize; b.len() + 1];
        for j in 1..=b.len() {
            if a[i - 1] == b[j - 1] {
                cur[j] = prev[j - 1] + 1;
                if cur[j] > best.2 {
                    best = (i - cur[j], j - cur[j], cur[j]);
                }
            }
        }
        prev = cur;
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_round_trip() {
        for (f, l) in [
            ("running", "run"),
            ("Mäste", "mať"),
            ("gegangen", "gehen"),
            ("Du", "de"),
            ("USA", "USA"),
            ("Paris", "Paris"),
            ("iPhone", "iPhone"),
            ("went", "go"),
            ("ľuďmi", "človek"),
            ("_", "_"),
        ] {
            let r = rule(f, l);
            assert_eq!(apply(f, &r).as_deref(), Some(l), "{f} -> {l} via {r}");
        }
        // The same rule serves other words of the same inflection.
        let r = rule("walked", "walk");
        assert_eq!(apply("talked", &r).as_deref(), Some("talk"));
        assert_eq!(apply("Talked", &r).as_deref(), Some("talk"));
    }
}
