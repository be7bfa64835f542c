//! JSON scanning shared by the Socket.IO codec ([`super::sio`]) and the argument
//! (de)serialization ([`crate::payload`]): white space, string literals, unescaping,
//! object keys and the elements of an array, plus the one JSON string writer of the
//! hand-written Engine.IO bodies.
//!
//! Nothing here builds a value or validates a document: the callers validate with
//! `serde_json` first (or trust text they validated earlier), then use these scanners to
//! find their way in it without a second parse. On text that is not well-formed JSON the
//! scanners never panic and never loop: they return `None` or stop at the end of the text.

use std::borrow::Cow;

/// Whether `b` is JSON white space (space, tab, LF, CR).
pub(crate) fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// The index of the first byte at or after `pos` that is not JSON white space
/// (`text.len()` when there is none).
pub(crate) fn skip_ws(text: &[u8], mut pos: usize) -> usize {
    while text.get(pos).is_some_and(|&b| is_ws(b)) {
        pos += 1;
    }
    pos
}

/// Length of `text` without its trailing JSON white space.
pub(crate) fn trim_ws_end(text: &[u8]) -> usize {
    text.iter().rposition(|&b| !is_ws(b)).map_or(0, |p| p + 1)
}

/// Given `text[open] == b'"'`, the index just past the quote closing that string literal;
/// `None` when the string is not terminated.
///
/// Escapes are skipped, not checked. Scans 8 bytes at a time. (The Socket.IO codec used to
/// have its own byte-at-a-time copy returning `None` when unterminated, the payload reader a
/// word-at-a-time one returning the end of the text: the payload reader now maps `None` to
/// the end of the text itself, see [`Elements`].)
pub(crate) fn string_end(text: &[u8], open: usize) -> Option<usize> {
    let mut i = open + 1;
    loop {
        let at = find_quote_or_backslash(text, i)?;
        if text[at] == b'"' {
            return Some(at + 1);
        }
        // A backslash: skip it and the escaped character.
        i = at + 2;
    }
}

/// Index of the first `"` or `\` at or after `i`, 8 bytes at a time.
fn find_quote_or_backslash(data: &[u8], mut i: usize) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    // High bit set in the bytes of `x` equal to `b`. Bytes above a match may
    // be flagged spuriously, but the lowest flagged byte is always a match.
    fn matches(x: u64, b: u8) -> u64 {
        let v = x ^ (LO * u64::from(b));
        v.wrapping_sub(LO) & !v & HI
    }
    while let Some(chunk) = data.get(i..i.saturating_add(8)) {
        let mut word = [0; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word);
        let found = matches(x, b'"') | matches(x, b'\\');
        if found != 0 {
            return Some(i + (found.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    let rest = data.get(i..)?;
    rest.iter()
        .position(|&b| b == b'"' || b == b'\\')
        .map(|p| i + p)
}

/// The string literal starting at `text[open]`: its unescaped contents (borrowed when it has
/// no escape) and the index just past its closing quote. `None` when there is no string
/// literal there, or it is not terminated, or its contents are malformed (see [`unescape`]).
pub(crate) fn string(text: &[u8], open: usize) -> Option<(Cow<'_, str>, usize)> {
    if text.get(open) != Some(&b'"') {
        return None;
    }
    let end = string_end(text, open)?;
    Some((unescape(&text[open + 1..end - 1])?, end))
}

/// Reads an object member's `"key"` `:` at `pos` (after white space); returns the unescaped
/// key and the position of its value (after white space).
pub(crate) fn member_key(text: &[u8], pos: usize) -> Option<(Cow<'_, str>, usize)> {
    let (key, end) = string(text, skip_ws(text, pos))?;
    let colon = skip_ws(text, end);
    if text.get(colon) != Some(&b':') {
        return None;
    }
    Some((key, skip_ws(text, colon + 1)))
}

/// Unescapes the contents of a JSON string literal (between the quotes).
///
/// Lone surrogates (valid in `JSON.parse`) become U+FFFD. `None` when the
/// contents are malformed or not UTF-8.
pub(crate) fn unescape(raw: &[u8]) -> Option<Cow<'_, str>> {
    let Some(first_escape) = raw.iter().position(|&c| c == b'\\') else {
        return std::str::from_utf8(raw).ok().map(Cow::Borrowed);
    };
    let mut out = String::with_capacity(raw.len());
    out.push_str(std::str::from_utf8(&raw[..first_escape]).ok()?);
    let mut i = first_escape;
    // A leading surrogate waiting for its trailing half.
    let mut pending: Option<u16> = None;
    while i < raw.len() {
        if raw[i] != b'\\' {
            let next = raw[i..]
                .iter()
                .position(|&c| c == b'\\')
                .map_or(raw.len(), |p| i + p);
            if pending.take().is_some() {
                out.push('\u{fffd}');
            }
            out.push_str(std::str::from_utf8(&raw[i..next]).ok()?);
            i = next;
            continue;
        }
        let esc = *raw.get(i + 1)?;
        i += 2;
        let simple = match esc {
            b'"' => Some('"'),
            b'\\' => Some('\\'),
            b'/' => Some('/'),
            b'b' => Some('\u{8}'),
            b'f' => Some('\u{c}'),
            b'n' => Some('\n'),
            b'r' => Some('\r'),
            b't' => Some('\t'),
            b'u' => None,
            _ => return None,
        };
        if let Some(c) = simple {
            if pending.take().is_some() {
                out.push('\u{fffd}');
            }
            out.push(c);
            continue;
        }
        let hex = std::str::from_utf8(raw.get(i..i + 4)?).ok()?;
        if !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        let unit = u16::from_str_radix(hex, 16).ok()?;
        i += 4;
        match unit {
            0xD800..=0xDBFF => {
                if pending.replace(unit).is_some() {
                    out.push('\u{fffd}');
                }
            }
            0xDC00..=0xDFFF => match pending.take() {
                Some(hi) => {
                    let c = 0x10000 + ((u32::from(hi) - 0xD800) << 10) + (u32::from(unit) - 0xDC00);
                    out.push(char::from_u32(c).unwrap_or('\u{fffd}'));
                }
                None => out.push('\u{fffd}'),
            },
            _ => {
                if pending.take().is_some() {
                    out.push('\u{fffd}');
                }
                out.push(char::from_u32(u32::from(unit)).unwrap_or('\u{fffd}'));
            }
        }
    }
    if pending.is_some() {
        out.push('\u{fffd}');
    }
    Some(Cow::Owned(out))
}

/// The spans (`start..end`) of the elements of a JSON array, trusting the
/// text to be valid JSON (but never panicking nor looping when it is not:
/// an unterminated string runs to the end of the text).
///
/// Structural characters are ASCII, which never occur inside a multi-byte
/// UTF-8 sequence, so spans always fall on character boundaries. Elements
/// are trimmed of white space.
#[derive(Debug, Clone)]
pub(crate) struct Elements<'a> {
    data: &'a [u8],
    /// Where the next element (or the whitespace before it) starts; `None`
    /// once the array is over.
    next: Option<usize>,
}

impl<'a> Elements<'a> {
    /// The elements of the array `data`, the first one skipped when `skip_first`.
    /// None at all when `data` does not start with `[`.
    pub(crate) fn new(data: &'a [u8], skip_first: bool) -> Self {
        let i = skip_ws(data, 0);
        let next = (data.get(i) == Some(&b'[')).then_some(i + 1);
        let mut elements = Self { data, next };
        if skip_first {
            elements.next();
        }
        elements
    }
}

impl Iterator for Elements<'_> {
    type Item = (usize, usize);

    fn next(&mut self) -> Option<(usize, usize)> {
        let data = self.data;
        let mut i = skip_ws(data, self.next.take()?);
        if matches!(data.get(i), None | Some(b']')) {
            return None;
        }
        let start = i;
        let mut depth = 0usize;
        while let Some(&b) = data.get(i) {
            match b {
                b'"' => {
                    i = string_end(data, i).unwrap_or(data.len());
                    continue;
                }
                b'[' | b'{' => depth += 1,
                b']' | b'}' => {
                    if depth == 0 {
                        break;
                    }
                    depth -= 1;
                }
                b',' if depth == 0 => break,
                _ => {}
            }
            i += 1;
        }
        let end = i.min(data.len());
        // `data[start]` exists (checked above) and `end >= start`.
        let end = start + trim_ws_end(&data[start..end]);
        if data.get(i) == Some(&b',') {
            self.next = Some(i + 1);
        }
        Some((start, end))
    }
}

/// Appends `v` as a JSON string literal, escaped like `JSON.stringify`.
pub(crate) fn push_string(s: &mut String, v: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    s.push('"');
    for c in v.chars() {
        match c {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            '\u{8}' => s.push_str("\\b"),
            '\u{c}' => s.push_str("\\f"),
            '\n' => s.push_str("\\n"),
            '\r' => s.push_str("\\r"),
            '\t' => s.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let b = u32::from(c) as usize;
                s.push_str("\\u00");
                s.push(char::from(HEX[b >> 4]));
                s.push(char::from(HEX[b & 0xf]));
            }
            c => s.push(c),
        }
    }
    s.push('"');
}

#[cfg(test)]
mod tests;
