//! The indexing hot path of `analyzers/fields.py` (`Tokenizer.analyze_product`) in Rust.
//!
//! The Python code is the specification: this module must give the same tokens for every
//! text it accepts, and `tests/unit/analyzers/test_analysis_native.py` holds it to that on the
//! real catalog and on random text. It accepts only text whose characters all lie in blocks
//! where its rules provably match Python's (`is_safe`); for anything else it returns `None`
//! and the caller uses the Python path. What is not re-implemented is Python's by
//! construction: OpenCC `t2s` and pypinyin are called back (`t2s` only for text holding one
//! of the characters that can change, pinyin once per word, then memoised here), and the
//! case fold of non-ASCII characters is a table Python makes.
//!
//! Nothing here is part of `Analyzer.version`: the tokens are the Python path's, so a change
//! to this file that changed a token would be a bug caught by the tests, not a new analysis.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use jieba_rs::Jieba;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};
use unicode_normalization::{is_nfkc_quick, IsNormalized, UnicodeNormalization};

/// Memo tables are cleared when they reach this many entries (bounded memory), the sizes of
/// the Python path's `lru_cache`s: pinyin per word, and the short texts of brands,
/// categories and attributes.
const PINYIN_CAP: usize = 32_768;
const TEXT_CAP: usize = 16_384;
/// Texts longer than this are not memoised (the Python path's `short_words` rule).
const SHORT_TEXT: usize = 64;

/// Characters whose handling here is known to equal Python's: ASCII, Latin-1 and Latin
/// Extended-A/B (without `İ`/`ı`, which `re.IGNORECASE` folds into `[a-z]`), general
/// punctuation to miscellaneous symbols, CJK radicals, CJK symbols, kana and ideographs,
/// compatibility ideographs and forms, half- and full-width forms. Outside these, Unicode
/// version differences (NFKC of newer characters, `\d` over other scripts) could differ.
const SAFE: [(u32, u32); 10] = [
    (0x00, 0x7F),
    (0xA0, 0x12F),
    (0x132, 0x24F),
    (0x2000, 0x2BFF),
    (0x2E80, 0x2FDF),
    (0x3000, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xF900, 0xFAFF),
    (0xFE30, 0xFE4F),
    (0xFF00, 0xFFEF),
];

fn is_safe(c: char) -> bool {
    let c = c as u32;
    // ASCII and the main ideograph block first: nearly every character of a title.
    c < 0x80 || (0x4E00..=0x9FFF).contains(&c) || SAFE.iter().any(|&(lo, hi)| lo <= c && c <= hi)
}

/// `str.isspace()` (and regex `\s`) for the characters `is_safe` admits.
fn py_space(c: char) -> bool {
    matches!(c as u32,
        0x09..=0x0D | 0x1C..=0x20 | 0x85 | 0xA0 | 0x1680 | 0x2000..=0x200A
        | 0x2028 | 0x2029 | 0x202F | 0x205F | 0x3000)
}

/// The `CJK` class of `analyzers/normalize.py`.
fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF)
}

fn is_alnum(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

/// `unicodedata.normalize("NFKC", text)`, skipping the work when the quick check says the
/// text is already normalised (most titles: ideographs, ASCII and CJK punctuation).
fn nfkc(text: &str) -> String {
    if is_nfkc_quick(text.chars()) == IsNormalized::Yes {
        text.to_string()
    } else {
        text.nfkc().collect()
    }
}

/// `s[:n]` in code points.
fn prefix(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

fn char_len(s: &str) -> usize {
    s.chars().count()
}

fn push_unique(out: &mut Vec<String>, s: &str) {
    if !out.iter().any(|o| o == s) {
        out.push(s.to_string());
    }
}

// ----------------------------------------------------------------------------- normalize.py

/// `camel_split` after NFKC: `-` before an upper-case ASCII letter that follows two
/// lower-case ASCII letters (`(?<=[a-z]{2})(?=[A-Z])`).
fn camel_split(nfkc: &str) -> String {
    let mut out = String::with_capacity(nfkc.len() + 4);
    let (mut p2, mut p1) = ('\0', '\0');
    for c in nfkc.chars() {
        if c.is_ascii_uppercase() && p1.is_ascii_lowercase() && p2.is_ascii_lowercase() {
            out.push('-');
        }
        out.push(c);
        p2 = p1;
        p1 = c;
    }
    out
}

/// `script_runs`: maximal CJK runs, and alnum runs `[a-z0-9]+(?:[.\-_+'][a-z0-9]+)*`.
fn script_runs(norm: &str) -> Vec<(bool, &str)> {
    let chars: Vec<(usize, char)> = norm.char_indices().collect();
    let end_of = |i: usize| if i < chars.len() { chars[i].0 } else { norm.len() };
    let mut runs = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i].1;
        if is_cjk(c) {
            let start = i;
            while i < chars.len() && is_cjk(chars[i].1) {
                i += 1;
            }
            runs.push((true, &norm[chars[start].0..end_of(i)]));
        } else if is_alnum(c) {
            let start = i;
            while i < chars.len() && is_alnum(chars[i].1) {
                i += 1;
            }
            while i + 1 < chars.len() && matches!(chars[i].1, '.' | '-' | '_' | '+' | '\'') && is_alnum(chars[i + 1].1)
            {
                i += 1;
                while i < chars.len() && is_alnum(chars[i].1) {
                    i += 1;
                }
            }
            runs.push((false, &norm[chars[start].0..end_of(i)]));
        } else {
            i += 1;
        }
    }
    runs
}

/// `model_tokens`: letter and digit parts (`[a-z]+|\d+(?:\.\d+)?`), then the whole model
/// without `-_+'` unless it is the only part.
fn model_tokens(run: &str) -> Vec<String> {
    let b = run.as_bytes(); // alnum runs are ASCII
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_lowercase() {
            let s = i;
            while i < b.len() && b[i].is_ascii_lowercase() {
                i += 1;
            }
            parts.push(run[s..i].to_string());
        } else if b[i].is_ascii_digit() {
            let s = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if i + 1 < b.len() && b[i] == b'.' && b[i + 1].is_ascii_digit() {
                i += 1;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
            }
            parts.push(run[s..i].to_string());
        } else {
            i += 1;
        }
    }
    if parts.is_empty() {
        return parts;
    }
    let whole: String = run.chars().filter(|c| !matches!(c, '-' | '_' | '+' | '\'')).collect();
    if parts.len() == 1 && parts[0] == whole {
        return parts;
    }
    if !parts.contains(&whole) {
        parts.push(whole);
    }
    parts
}

// --------------------------------------------------------------------------------- units.py

/// `_UNIT_TABLE` in the alternation order of `_QTY` (longest first, then table order).
const UNITS: [(&str, &str, f64); 19] = [
    ("千克", "g", 1000.0),
    ("公斤", "g", 1000.0),
    ("kg", "g", 1000.0),
    ("mg", "mg", 1.0),
    ("毫升", "ml", 1.0),
    ("ml", "ml", 1.0),
    ("tb", "gb", 1024.0),
    ("gb", "gb", 1.0),
    ("毫米", "mm", 1.0),
    ("mm", "mm", 1.0),
    ("厘米", "mm", 10.0),
    ("cm", "mm", 10.0),
    ("克", "g", 1.0),
    ("斤", "g", 500.0),
    ("升", "ml", 1000.0),
    ("l", "ml", 1000.0),
    ("t", "gb", 1024.0),
    ("米", "mm", 1000.0),
    ("g", "g", 1.0),
];
const MEMORY_SIZES: [&str; 10] = ["2", "4", "8", "16", "32", "64", "128", "256", "512", "1024"];

/// Python's `f"{value:g}"` for a finite, non-integral value.
fn format_g(value: f64) -> String {
    let sci = format!("{:.5e}", value); // 6 significant digits, correctly rounded
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..6).contains(&exp) {
        let m = mantissa.trim_end_matches('0').trim_end_matches('.');
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{m}e{sign}{:02}", exp.abs());
    }
    let decimals = (5 - exp).max(0) as usize;
    let fixed = format!("{:.*}", decimals, value);
    if fixed.contains('.') {
        fixed.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        fixed
    }
}

/// `_fmt(value) + base`; `None` where Rust's and Python's printing of the number could
/// differ (integral values beyond 2^53), so that the caller falls back to Python.
fn quantity(value: f64, base: &str) -> Option<String> {
    if value == value.trunc() {
        if value.abs() >= 9.0e15 {
            return None;
        }
        return Some(format!("{}{}", value as i64, base));
    }
    Some(format!("{}{}", format_g(value), base))
}

/// `unit_tokens` on NFKC text (not case folded). `None`: fall back to Python.
fn unit_tokens(text: &str) -> Option<Vec<String>> {
    if !text.bytes().any(|b| b.is_ascii_digit()) {
        return Some(Vec::new());
    }
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut p = 0;
    while p < chars.len() {
        let blocked = p > 0 && (chars[p - 1].is_ascii_alphanumeric() || chars[p - 1] == '.');
        if !chars[p].is_ascii_digit() || blocked {
            p += 1;
            continue;
        }
        let mut q = p;
        while q < chars.len() && chars[q].is_ascii_digit() {
            q += 1;
        }
        if q + 1 < chars.len() && chars[q] == '.' && chars[q + 1].is_ascii_digit() {
            q += 1;
            while q < chars.len() && chars[q].is_ascii_digit() {
                q += 1;
            }
        }
        let num: String = chars[p..q].iter().collect();
        let starts: &[usize] = if q < chars.len() && py_space(chars[q]) {
            &[q + 1, q]
        } else {
            &[q]
        };
        let mut matched_at = None;
        'outer: for &u in starts {
            for &(spelling, base, factor) in &UNITS {
                let n = spelling.chars().count();
                let fits = u + n <= chars.len()
                    && spelling
                        .chars()
                        .zip(&chars[u..u + n])
                        .all(|(s, &c)| s == c.to_ascii_lowercase())
                    && (u + n == chars.len() || !chars[u + n].is_ascii_alphabetic());
                if fits {
                    matched_at = Some((u, u + n, spelling, base, factor));
                    break 'outer;
                }
            }
        }
        let Some((u, end, spelling, base, factor)) = matched_at else {
            p += 1;
            continue;
        };
        p = end; // the match is consumed whether or not it yields a token
        let written: String = chars[u..end].iter().collect();
        if spelling == "t" && written != "T" {
            continue; // "5t" trucks, "t恤": only an upper-case T after a number is terabytes
        }
        let (base, factor) = if spelling == "g" && written == "G" && MEMORY_SIZES.contains(&num.as_str()) {
            ("gb", 1.0)
        } else {
            (base, factor)
        };
        let value = num.parse::<f64>().ok()? * factor;
        if value.is_finite() {
            out.push(quantity(value, base)?);
        }
    }
    Some(out)
}

// ---------------------------------------------------------------------------------- the core

/// A product's analysis without Python's per-call overhead. Built once per `Tokenizer`.
#[pyclass(frozen, module = "analyzers._native")]
struct Core {
    jieba: Jieba,
    brands: HashSet<String>,
    products: HashSet<String>,
    /// `fields._SKIP_ATTRS`
    skip_attrs: HashSet<String>,
    /// `normalize.t2s`
    t2s: Py<PyAny>,
    /// `normalize.T2S_TRIGGERS`: text with none of them is its own `t2s` (no callback)
    t2s_triggers: Option<HashSet<char>>,
    /// `analyzers.pinyin.syllables` without its LRU (the memo below keeps the answers)
    syllables: Py<PyAny>,
    /// `_strip_latin_accents(c).casefold()` of every `is_safe` character it changes
    fold_table: HashMap<char, String>,
    pinyin_memo: Mutex<HashMap<String, Arc<Pinyin>>>,
    words_memo: Mutex<HashMap<String, Arc<Vec<String>>>>,
    brand_pinyin_memo: Mutex<HashMap<String, Vec<Arc<Pinyin>>>>,
    brand_inputs_memo: Mutex<HashMap<String, Vec<String>>>,
}

/// `pinyin.syllables` of a word, with its `full_and_initials`.
struct Pinyin {
    syl: Vec<String>,
    full: String,
    init: String,
}

fn joined<'a>(items: impl Iterator<Item = &'a str>, sep: &str) -> String {
    let mut out = String::new();
    for (i, s) in items.enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        out.push_str(s);
    }
    out
}

struct Prepared {
    norm: String,
    units: Vec<String>,
    marked: bool,
}

fn memo_get<K, V>(memo: &Mutex<HashMap<K, V>>, key: &str) -> Option<V>
where
    K: std::borrow::Borrow<str> + std::hash::Hash + Eq,
    V: Clone,
{
    memo.lock().ok()?.get(key).cloned()
}

fn memo_put<V>(memo: &Mutex<HashMap<String, V>>, cap: usize, key: &str, value: V) {
    if let Ok(mut m) = memo.lock() {
        if m.len() >= cap {
            m.clear();
        }
        m.insert(key.to_string(), value);
    }
}

impl Core {
    /// `_fold` of NFKC text made only of `is_safe` characters: accents of Latin letters
    /// stripped and case folded, per character, from the table Python made.
    fn fold(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        for c in text.chars() {
            if c.is_ascii() {
                out.push(c.to_ascii_lowercase());
            } else if is_cjk(c) {
                out.push(c); // ideographs have no case and no accents
            } else if let Some(f) = self.fold_table.get(&c) {
                out.push_str(f);
            } else {
                out.push(c);
            }
        }
        out
    }

    /// `_SPACE.sub(" ", t2s(folded)).strip()`; `None` when t2s left the safe blocks.
    fn t2s_collapse(&self, folded: String) -> PyResult<Option<String>> {
        let unchanged = match &self.t2s_triggers {
            Some(triggers) => !folded.chars().any(|c| triggers.contains(&c)),
            None => folded.is_ascii(),
        };
        let converted: String = if unchanged {
            folded
        } else {
            Python::attach(|py| self.t2s.call1(py, (folded,))?.extract(py))?
        };
        if !converted.chars().all(is_safe) {
            return Ok(None);
        }
        let mut norm = String::with_capacity(converted.len());
        let mut in_space = false;
        for c in converted.chars() {
            if py_space(c) {
                in_space = true;
            } else {
                if in_space && !norm.is_empty() {
                    norm.push(' ');
                }
                in_space = false;
                norm.push(c);
            }
        }
        Ok(Some(norm))
    }

    /// `Tokenizer._prepared`: the `normalize` of the camel-marked text, its unit tokens, and
    /// whether the camel marks changed anything (else `normalize(text)` is `norm` too).
    fn prepared(&self, text: &str) -> PyResult<Option<Prepared>> {
        if text.is_empty() {
            return Ok(Some(Prepared {
                norm: String::new(),
                units: Vec::new(),
                marked: false,
            }));
        }
        let nfkc = nfkc(text);
        let pre = camel_split(&nfkc);
        if !pre.chars().all(is_safe) {
            return Ok(None);
        }
        let Some(units) = unit_tokens(&pre) else {
            return Ok(None);
        };
        // NFKC(pre) == pre: the marks are ASCII starters put between two ASCII letters.
        let Some(norm) = self.t2s_collapse(self.fold(&pre))? else {
            return Ok(None);
        };
        let marked = pre.len() != nfkc.len();
        Ok(Some(Prepared { norm, units, marked }))
    }

    /// `Tokenizer._words_of`: search mode (`cuts` None: `cut_for_search` of each CJK run), or
    /// the default-mode words already cut by `cuts` (one entry per CJK run, in order).
    fn words_of(&self, runs: &[(bool, &str)], units: &[String], cuts: Option<&[Vec<&str>]>) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut cut = cuts.map(|c| c.iter());
        for &(cjk, run) in runs {
            if !cjk {
                out.extend(model_tokens(run));
            } else if let Some(words) = cut.as_mut().and_then(|c| c.next()) {
                out.extend(words.iter().map(|w| w.to_string()));
            } else {
                out.extend(
                    self.jieba
                        .cut_for_search(run, false)
                        .into_iter()
                        .map(|t| t.word.to_string()),
                );
            }
        }
        for u in units {
            push_unique(&mut out, u);
        }
        out
    }

    /// `Tokenizer.words` (search mode). `None`: fall back to Python.
    fn words(&self, text: &str) -> PyResult<Option<Vec<String>>> {
        let Some(p) = self.prepared(text)? else {
            return Ok(None);
        };
        let runs = script_runs(&p.norm);
        Ok(Some(self.words_of(&runs, &p.units, None)))
    }

    /// `Tokenizer.short_words`: `words`, memoised for texts of up to 64 characters.
    fn short_words(&self, text: &str) -> PyResult<Option<Arc<Vec<String>>>> {
        let short = char_len(text) <= SHORT_TEXT;
        if short {
            if let Some(w) = memo_get(&self.words_memo, text) {
                return Ok(Some(w));
            }
        }
        let Some(words) = self.words(text)? else {
            return Ok(None);
        };
        let words = Arc::new(words);
        if short {
            memo_put(&self.words_memo, TEXT_CAP, text, words.clone());
        }
        Ok(Some(words))
    }

    /// `pinyin.syllables` and `pinyin.full_and_initials` of a CJK word, memoised here to
    /// skip the call into Python.
    fn pinyin(&self, word: &str) -> PyResult<Arc<Pinyin>> {
        if let Some(s) = memo_get(&self.pinyin_memo, word) {
            return Ok(s);
        }
        let syl: Vec<String> = Python::attach(|py| self.syllables.call1(py, (word,))?.extract(py))?;
        let full = syl.concat();
        let init = syl.iter().filter_map(|s| s.chars().next()).collect();
        let value = Arc::new(Pinyin { syl, full, init });
        memo_put(&self.pinyin_memo, PINYIN_CAP, word, value.clone());
        Ok(value)
    }

    /// `Tokenizer._pinyin_of` over default-mode cuts: the words with a pinyin, in order.
    fn pinyin_of(&self, cuts: &[Vec<&str>]) -> PyResult<Vec<Arc<Pinyin>>> {
        let mut out = Vec::new();
        for words in cuts {
            for w in words {
                let p = self.pinyin(w)?;
                if !p.full.is_empty() {
                    out.push(p);
                }
            }
        }
        Ok(out)
    }

    fn cuts<'a>(&self, runs: &[(bool, &'a str)]) -> Vec<Vec<&'a str>> {
        runs.iter()
            .filter(|(cjk, _)| *cjk)
            .map(|(_, run)| self.jieba.cut(run, false).into_iter().map(|t| t.word).collect())
            .collect()
    }

    /// `Tokenizer._brand_pinyin` (memoised like the Python path's `_short_pinyin`).
    fn brand_pinyin(&self, text: &str) -> PyResult<Option<Vec<Arc<Pinyin>>>> {
        if text.is_empty() {
            return Ok(Some(Vec::new()));
        }
        if let Some(v) = memo_get(&self.brand_pinyin_memo, text) {
            return Ok(Some(v));
        }
        let Some(p) = self.prepared(text)? else {
            return Ok(None);
        };
        let runs = script_runs(&p.norm);
        let cuts = self.cuts(&runs);
        let value = self.pinyin_of(&cuts)?;
        if char_len(text) <= SHORT_TEXT {
            memo_put(&self.brand_pinyin_memo, TEXT_CAP, text, value.clone());
        }
        Ok(Some(value))
    }

    /// `normalize(text)`; `None`: fall back to Python.
    fn normalize(&self, text: &str) -> PyResult<Option<String>> {
        if text.is_empty() {
            return Ok(Some(String::new()));
        }
        let nfkc = nfkc(text);
        if !nfkc.chars().all(is_safe) {
            return Ok(None);
        }
        self.t2s_collapse(self.fold(&nfkc))
    }

    /// `fields._brand_inputs`.
    fn brand_inputs(&self, brand: &str) -> PyResult<Option<Vec<String>>> {
        if let Some(v) = memo_get(&self.brand_inputs_memo, brand) {
            return Ok(Some(v));
        }
        let spaced = brand.replace('/', " / ");
        let mut out = Vec::new();
        for part in spaced.split(" / ") {
            let Some(p) = self.normalize(part)? else {
                return Ok(None);
            };
            if !p.is_empty() {
                out.push(prefix(&p, 60).to_string());
            }
        }
        memo_put(&self.brand_inputs_memo, TEXT_CAP, brand, out.clone());
        Ok(Some(out))
    }

    /// `Tokenizer.main_product_word`.
    fn main_product_word<'a>(&self, words: &'a [String]) -> &'a str {
        let cjk: Vec<&String> = words.iter().filter(|w| char_len(w) >= 2 && !w.is_ascii()).collect();
        let tagged: Vec<&String> = cjk
            .iter()
            .copied()
            .filter(|w| self.products.contains(w.as_str()))
            .collect();
        let pool = if tagged.is_empty() { cjk } else { tagged };
        let mut best: Option<&String> = None;
        for w in pool {
            if best.is_none_or(|b| char_len(w) > char_len(b)) {
                best = Some(w);
            }
        }
        best.map_or("", |s| s.as_str())
    }

    /// `Tokenizer._suggest_inputs`.
    fn suggest_inputs(
        &self,
        brand: Option<&str>,
        words: &[String],
        pinyin: &[Arc<Pinyin>],
        norm_title: &str,
    ) -> PyResult<Option<Vec<String>>> {
        let mut out: Vec<String> = Vec::new();
        let (words, pinyin) = if norm_title.is_empty() {
            (&[][..], &[][..])
        } else {
            (words, pinyin)
        };
        if !norm_title.is_empty() {
            out.push(prefix(norm_title, 60).to_string());
        }
        if let Some(b) = brand {
            if !b.trim_matches(py_space).is_empty() {
                let Some(inputs) = self.brand_inputs(b)? else {
                    return Ok(None);
                };
                out.extend(inputs);
            }
        }
        let product = self.main_product_word(words);
        if !product.is_empty() {
            out.push(product.to_string());
            let p = self.pinyin(product)?;
            let syl = &p.syl;
            if !p.full.is_empty() {
                out.push(p.full.clone());
                out.push(p.init.clone());
                let chars: Vec<char> = product.chars().collect();
                if syl.len() == chars.len() && chars.len() >= 2 {
                    for k in 1..chars.len().min(3) {
                        let head: String = chars[..k].iter().collect();
                        out.push(head + &syl[k..].concat());
                    }
                }
            }
        }
        if !pinyin.is_empty() {
            out.push(prefix(&joined(pinyin.iter().map(|p| p.full.as_str()), ""), 60).to_string());
            out.push(prefix(&joined(pinyin.iter().map(|p| p.init.as_str()), ""), 60).to_string());
        }
        let mut unique: Vec<String> = Vec::new();
        for o in out {
            if !o.is_empty() && !unique.contains(&o) {
                unique.push(o);
            }
        }
        unique.truncate(12);
        Ok(Some(unique))
    }

    /// `" ".join(c for c in category or [] if isinstance(c, str))`; `None` on an odd type.
    fn category_text(&self, category: &Bound<'_, PyAny>) -> PyResult<Option<String>> {
        if !category.is_truthy()? {
            return Ok(Some(String::new()));
        }
        let Ok(list) = category.cast::<PyList>() else {
            return Ok(None);
        };
        let mut parts: Vec<String> = Vec::new();
        for item in list.iter() {
            if let Ok(s) = item.cast::<PyString>() {
                parts.push(s.to_cow()?.into_owned());
            }
        }
        Ok(Some(parts.join(" ")))
    }

    /// `" ".join(fields._attribute_values(attributes))`; `None` on an odd type.
    fn attribute_text(&self, attributes: &Bound<'_, PyAny>) -> PyResult<Option<String>> {
        if !attributes.is_truthy()? {
            return Ok(Some(String::new()));
        }
        let Ok(dict) = attributes.cast::<PyDict>() else {
            return Ok(None);
        };
        let mut parts: Vec<String> = Vec::new();
        for (key, value) in dict.iter() {
            if let Ok(k) = key.cast::<PyString>() {
                if self.skip_attrs.contains(k.to_cow()?.as_ref()) {
                    continue;
                }
            }
            let values: Vec<Bound<'_, PyAny>> = match value.cast::<PyList>() {
                Ok(list) => list.iter().collect(),
                Err(_) => vec![value],
            };
            for v in values {
                if !v.is_none() {
                    parts.push(v.str()?.to_cow()?.replace('/', " "));
                }
            }
        }
        Ok(Some(parts.join(" ")))
    }

    /// The analysis of `analyze` once its arguments are plain text.
    #[allow(clippy::too_many_arguments)]
    fn analyze_texts(
        &self,
        title: &str,
        brand: Option<&str>,
        description: Option<&str>,
        category: &str,
        attributes: &str,
        suggest: bool,
    ) -> PyResult<Option<Analysis>> {
        let texts = [
            title,
            brand.unwrap_or(""),
            description.unwrap_or(""),
            category,
            attributes,
        ];
        // The inputs, not only their NFKC: NFKC of a newer character may differ across Unicode versions.
        if !texts.iter().all(|t| t.chars().all(is_safe)) {
            return Ok(None);
        }
        let Some(p) = self.prepared(title)? else {
            return Ok(None);
        };
        let runs = script_runs(&p.norm);
        let title_words = self.words_of(&runs, &p.units, None);
        let cuts = self.cuts(&runs);
        let Some(brand_words) = self.short_words(&brand.unwrap_or("").replace('/', " "))? else {
            return Ok(None);
        };
        let mut brand_tokens = (*brand_words).clone();
        for w in &title_words {
            if self.brands.contains(w.as_str()) {
                push_unique(&mut brand_tokens, w);
            }
        }
        let t_pinyin = self.pinyin_of(&cuts)?;
        let Some(b_pinyin) = self.brand_pinyin(&brand_tokens.join(" "))? else {
            return Ok(None);
        };
        let mut brand_pinyin: Vec<&str> = Vec::new();
        for t in b_pinyin
            .iter()
            .map(|p| p.full.as_str())
            .chain(b_pinyin.iter().map(|p| p.init.as_str()))
        {
            if !t.is_empty() && !brand_pinyin.contains(&t) {
                brand_pinyin.push(t);
            }
        }
        // title_chars and title_bigrams, written straight into their joined form.
        let (mut chars, mut bigrams) = (String::new(), String::new());
        let add = |out: &mut String, token: &str| {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(token);
        };
        for &(cjk, run) in &runs {
            if cjk {
                let mut prev: Option<(usize, char)> = None;
                for (i, c) in run.char_indices() {
                    add(&mut chars, &run[i..i + c.len_utf8()]);
                    if let Some((j, _)) = prev {
                        add(&mut bigrams, &run[j..i + c.len_utf8()]);
                    }
                    prev = Some((i, c));
                }
            } else {
                let toks = model_tokens(run);
                let keep = if toks.len() > 1 { toks.len() - 1 } else { toks.len() };
                for t in &toks[..keep] {
                    add(&mut chars, t);
                }
            }
        }
        let desc_words = match description {
            Some(d) => match self.words(d)? {
                Some(w) => w.join(" "),
                None => return Ok(None),
            },
            None => String::new(),
        };
        let Some(category_words) = self.short_words(category)? else {
            return Ok(None);
        };
        let attr_words = if attributes.is_empty() {
            String::new()
        } else {
            match self.short_words(attributes)? {
                Some(w) => w.join(" "),
                None => return Ok(None),
            }
        };
        let fields = [
            ("title_words", title_words.join(" ")),
            ("title_chars", chars),
            ("title_bigrams", bigrams),
            ("title_pinyin", joined(t_pinyin.iter().map(|p| p.full.as_str()), " ")),
            ("title_initials", joined(t_pinyin.iter().map(|p| p.init.as_str()), " ")),
            ("brand_words", brand_tokens.join(" ")),
            ("brand_pinyin", brand_pinyin.join(" ")),
            ("desc_words", desc_words),
            ("category_words", category_words.join(" ")),
            ("attr_words", attr_words),
        ];
        let inputs: Vec<String> = if suggest {
            let whole = self.words_of(&runs, &p.units, Some(&cuts));
            // normalize(title) folds NFKC(title), which is `pre` unless camel marks were added.
            let plain = if !p.marked {
                p.norm.clone()
            } else {
                match self.normalize(title)? {
                    Some(n) => n,
                    None => return Ok(None),
                }
            };
            match self.suggest_inputs(brand, &whole, &t_pinyin, &plain)? {
                Some(i) => i,
                None => return Ok(None),
            }
        } else {
            Vec::new()
        };
        Ok(Some(Analysis { fields, inputs }))
    }
}

/// What `analyze_texts` makes, as Rust values: made without the GIL, turned into Python after.
struct Analysis {
    /// `(INDEX_TEXT_FIELDS name, whitespace-joined tokens)`
    fields: [(&'static str, String); 10],
    inputs: Vec<String>,
}

#[pymethods]
impl Core {
    /// `entries`: `(word, freq, tag or None)` as given to rjieba's `add_word`, in order.
    /// `fold_table`: `_strip_latin_accents(c).casefold()` of each character of
    /// `safe_ranges()` it changes (Python makes it, so it is Python's fold by construction).
    #[new]
    /// `t2s_triggers`: `normalize.T2S_TRIGGERS` (`None`: call `t2s` on all but ASCII text).
    #[pyo3(signature = (entries, brands, products, skip_attrs, t2s, t2s_triggers, syllables, fold_table))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        entries: Vec<(String, usize, Option<String>)>,
        brands: Vec<String>,
        products: Vec<String>,
        skip_attrs: Vec<String>,
        t2s: Py<PyAny>,
        t2s_triggers: Option<HashSet<char>>,
        syllables: Py<PyAny>,
        fold_table: HashMap<char, String>,
    ) -> Self {
        let mut jieba = Jieba::new();
        for (word, freq, tag) in &entries {
            jieba.add_word(word, Some(*freq), tag.as_deref());
        }
        Core {
            jieba,
            brands: brands.into_iter().collect(),
            products: products.into_iter().collect(),
            skip_attrs: skip_attrs.into_iter().collect(),
            t2s,
            t2s_triggers,
            syllables,
            fold_table,
            pinyin_memo: Mutex::new(HashMap::new()),
            words_memo: Mutex::new(HashMap::new()),
            brand_pinyin_memo: Mutex::new(HashMap::new()),
            brand_inputs_memo: Mutex::new(HashMap::new()),
        }
    }

    /// `Tokenizer.analyze_product(title, brand, description, category, attributes, suggest)`,
    /// arguments as the Python path takes them. Returns `(fields, suggest_inputs)`, or `None`
    /// when the product needs the Python path (text outside the safe blocks, odd types).
    #[pyo3(signature = (title, brand, description, category, attributes, suggest))]
    #[allow(clippy::too_many_arguments)]
    fn analyze<'py>(
        &self,
        py: Python<'py>,
        title: &Bound<'py, PyAny>,
        brand: &Bound<'py, PyAny>,
        description: &Bound<'py, PyAny>,
        category: &Bound<'py, PyAny>,
        attributes: &Bound<'py, PyAny>,
        suggest: bool,
    ) -> PyResult<Option<Bound<'py, PyTuple>>> {
        let (title, brand, description) = (as_str(title)?, as_str(brand)?, as_str(description)?);
        let Some(category) = self.category_text(category)? else {
            return Ok(None);
        };
        let Some(attributes) = self.attribute_text(attributes)? else {
            return Ok(None);
        };
        // The GIL is released while the text is analysed, so the indexer's other threads (bulk
        // requests, Kafka) and other analysing threads run meanwhile; Python is re-entered only
        // for the rare callbacks (OpenCC on traditional text, pypinyin on a new word).
        let analysis = py.detach(|| {
            self.analyze_texts(
                title.as_deref().unwrap_or(""),
                brand.as_deref(),
                description.as_deref(),
                &category,
                &attributes,
                suggest,
            )
        })?;
        let Some(Analysis { fields, inputs }) = analysis else {
            return Ok(None);
        };
        let doc = PyDict::new(py);
        for (name, value) in fields {
            doc.set_item(name, value)?;
        }
        Ok(Some(PyTuple::new(
            py,
            [doc.into_any(), inputs.into_pyobject(py)?.into_any()],
        )?))
    }

    /// rjieba's `cut(run, False)`: the Python segmenter's engine when the core is built, so a
    /// process holds one copy of the dictionary.
    fn cut(&self, run: &str) -> Vec<String> {
        self.jieba
            .cut(run, false)
            .into_iter()
            .map(|t| t.word.to_string())
            .collect()
    }

    /// rjieba's `cut_for_search(run, False)`.
    fn cut_for_search(&self, run: &str) -> Vec<String> {
        self.jieba
            .cut_for_search(run, false)
            .into_iter()
            .map(|t| t.word.to_string())
            .collect()
    }
}

/// The text of `o` when `isinstance(o, str)`, borrowed for the call (no copy).
fn as_str<'a>(o: &'a Bound<'_, PyAny>) -> PyResult<Option<Cow<'a, str>>> {
    o.cast::<PyString>().ok().map(|s| s.to_cow()).transpose()
}

/// The code point ranges of `is_safe`, inclusive (Python builds the fold table over them).
#[pyfunction]
fn safe_ranges() -> Vec<(u32, u32)> {
    SAFE.to_vec()
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Core>()?;
    m.add_function(wrap_pyfunction!(safe_ranges, m)?)?;
    Ok(())
}
