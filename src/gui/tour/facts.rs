//! The numbers a tour's text names, computed from the open documents (never written into the
//! text): a sample that changes changes the text, and the tests compare the two.

use std::collections::BTreeMap;

/// Named values for `{name}` placeholders; a value not (yet) known is absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts(pub BTreeMap<&'static str, String>);

impl Facts {
    /// Set `key` to `value`.
    pub fn set(&mut self, key: &'static str, value: impl ToString) {
        self.0.insert(key, value.to_string());
    }

    /// Set `key` when `value` is known.
    pub fn set_opt(&mut self, key: &'static str, value: Option<impl ToString>) {
        if let Some(v) = value {
            self.set(key, v);
        }
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// The value of `key` as a number (decimal, or hex with `0x`).
    pub fn num(&self, key: &str) -> Option<usize> {
        let v = self.get(key)?;
        match v.strip_prefix("0x") {
            Some(h) => usize::from_str_radix(h, 16).ok(),
            None => v.parse().ok(),
        }
    }

    /// `text` with every `{key}` replaced by its value, and whether all were known. A sentence
    /// naming a value not known yet (one the step's own action computes) is left out.
    pub fn fill(&self, text: &str) -> (String, bool) {
        let mut out = String::with_capacity(text.len() + 32);
        let mut complete = true;
        for sentence in text.split_inclusive(". ") {
            let (filled, known) = self.fill_all(sentence);
            if known {
                out.push_str(&filled);
            }
            complete &= known;
        }
        (out.trim_end().to_string(), complete)
    }

    /// `text` with every `{key}` replaced by its value (`…` where unknown), and whether all
    /// were known.
    pub fn fill_all(&self, text: &str) -> (String, bool) {
        let mut out = String::with_capacity(text.len() + 32);
        let mut complete = true;
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let Some(close) = after.find('}') else {
                out.push_str(&rest[open..]);
                rest = "";
                break;
            };
            match self.get(&after[..close]) {
                Some(v) => out.push_str(v),
                None => {
                    complete = false;
                    out.push('…');
                }
            }
            rest = &after[close + 1..];
        }
        out.push_str(rest);
        (out, complete)
    }

    /// The placeholders of `text`.
    pub fn keys(text: &str) -> Vec<&str> {
        let mut keys = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            let after = &rest[open + 1..];
            let Some(close) = after.find('}') else { break };
            keys.push(&after[..close]);
            rest = &after[close + 1..];
        }
        keys
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_known_values_and_marks_unknown_ones() {
        let mut f = Facts::default();
        f.set("n", 3);
        assert_eq!(f.fill_all("{n} of {m}"), ("3 of …".to_string(), false));
        assert_eq!(f.fill("Do this. Then {m} of {n}. And {n}."), ("Do this. And 3.".to_string(), false));
        assert_eq!(f.fill("just {n}"), ("just 3".to_string(), true));
        assert_eq!(Facts::keys("{a} and {b}"), vec!["a", "b"]);
        f.set("h", "0x1f");
        assert_eq!(f.num("h"), Some(31));
    }
}
