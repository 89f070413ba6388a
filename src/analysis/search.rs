//! Byte search for the hex view: a hex pattern with `??` wildcards, ASCII text or UTF-16LE text,
//! every hit listed (up to a limit).

/// How the query is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SearchKind {
    /// Hex bytes (`4d 5a ?? 00`, spaces optional), `??` matching any byte.
    #[default]
    Hex,
    /// The query's bytes as typed (UTF-8; ASCII for ASCII text).
    Ascii,
    /// The query as UTF-16LE code units.
    Utf16,
}

impl SearchKind {
    /// Every kind, in menu order.
    pub const ALL: [SearchKind; 3] = [SearchKind::Hex, SearchKind::Ascii, SearchKind::Utf16];

    /// Its name in the menu.
    pub fn label(self) -> &'static str {
        match self {
            SearchKind::Hex => "hex",
            SearchKind::Ascii => "text",
            SearchKind::Utf16 => "UTF-16",
        }
    }
}

/// Why a query is not a pattern.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SearchError {
    /// Nothing to search for.
    #[error("type something to search for")]
    Empty,
    /// Not hex.
    #[error("`{0}` is not a hex byte (two hex digits, or ?? for any byte)")]
    BadHex(String),
    /// Only wildcards: every position would match.
    #[error("a pattern of ?? alone matches everywhere: give at least one byte")]
    AllWildcards,
}

/// The bytes `query` stands for (`None`: any byte).
pub fn pattern(kind: SearchKind, query: &str) -> Result<Vec<Option<u8>>, SearchError> {
    let p: Vec<Option<u8>> = match kind {
        SearchKind::Ascii => query.bytes().map(Some).collect(),
        SearchKind::Utf16 => query.encode_utf16().flat_map(|u| u.to_le_bytes()).map(Some).collect(),
        SearchKind::Hex => {
            let digits: String = query.chars().filter(|c| !c.is_whitespace() && *c != ',').collect();
            let chars: Vec<char> = digits.chars().collect();
            let mut v = Vec::new();
            for pair in chars.chunks(2) {
                let s: String = pair.iter().collect();
                if s == "??" {
                    v.push(None);
                } else if pair.len() == 2 && pair.iter().all(char::is_ascii_hexdigit) {
                    v.push(u8::from_str_radix(&s, 16).ok());
                } else {
                    return Err(SearchError::BadHex(s));
                }
            }
            v
        }
    };
    if p.is_empty() {
        return Err(SearchError::Empty);
    }
    if p.iter().all(Option::is_none) {
        return Err(SearchError::AllWildcards);
    }
    Ok(p)
}

/// The offsets where `pat` matches `data`, in order, at most `limit` of them (overlapping hits
/// included); the flag says whether there were more.
pub fn find_all(data: &[u8], pat: &[Option<u8>], limit: usize) -> (Vec<u64>, bool) {
    // Anchor on the longest run of fixed bytes, found by a vectorised search; check the rest.
    let mut best = (0usize, 0usize);
    let mut k = 0;
    while k < pat.len() {
        let s = k;
        while k < pat.len() && pat[k].is_some() {
            k += 1;
        }
        if k - s > best.1 - best.0 {
            best = (s, k);
        }
        k += 1;
    }
    let anchor: Vec<u8> = pat[best.0..best.1].iter().flatten().copied().collect();
    let mut hits = Vec::new();
    if anchor.is_empty() || pat.len() > data.len() {
        return (hits, false);
    }
    let finder = memchr::memmem::Finder::new(&anchor);
    let mut from = best.0;
    while let Some(i) = finder.find(&data[from..]) {
        let at = from + i;
        from = at + 1;
        let start = at - best.0;
        let Some(window) = data.get(start..start + pat.len()) else { break };
        if window.iter().zip(pat).all(|(b, p)| p.is_none_or(|p| p == *b)) {
            if hits.len() == limit {
                return (hits, true);
            }
            hits.push(start as u64);
        }
    }
    (hits, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_and_hits() {
        let data = b"MZ\x90\x00abcMZ\x00\x00a\x00b\x00c\x00";
        let p = pattern(SearchKind::Hex, "4d 5a ?? 00").unwrap();
        assert_eq!(find_all(data, &p, 10), (vec![0, 7], false));
        assert_eq!(find_all(data, &p, 1), (vec![0], true));
        let p = pattern(SearchKind::Ascii, "abc").unwrap();
        assert_eq!(find_all(data, &p, 10).0, vec![4]);
        let p = pattern(SearchKind::Utf16, "abc").unwrap();
        assert_eq!(find_all(data, &p, 10).0, vec![11]);
        // Overlapping hits, a wildcard first.
        let p = pattern(SearchKind::Hex, "??00").unwrap();
        assert_eq!(find_all(b"\x00\x00\x00", &p, 10).0, vec![0, 1]);
        assert_eq!(pattern(SearchKind::Hex, "4g"), Err(SearchError::BadHex("4g".into())));
        assert_eq!(pattern(SearchKind::Hex, "4"), Err(SearchError::BadHex("4".into())));
        assert_eq!(pattern(SearchKind::Hex, "?? ??"), Err(SearchError::AllWildcards));
        assert_eq!(pattern(SearchKind::Ascii, ""), Err(SearchError::Empty));
        // A pattern longer than the data.
        let p = pattern(SearchKind::Ascii, "abcdef").unwrap();
        assert_eq!(find_all(b"abc", &p, 10).0, Vec::<u64>::new());
    }
}
