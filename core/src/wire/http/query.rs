//! Query strings (`a=1&b=2`): lookup and `application/x-www-form-urlencoded`
//! decoding (percent escapes, `+` as space).
//!
//! Nothing is refused: invalid percent escapes are kept literally, and escapes
//! that decode to invalid UTF-8 are lossily converted.

use std::borrow::Cow;

use super::hex_value;

/// First value of `key` in a raw query string (`a=1&b=2`), percent-decoded
/// with `+` as space.
///
/// Keys are compared after decoding. Invalid percent escapes are kept
/// literally; escapes that decode to invalid UTF-8 are lossily converted. A
/// key with no `=` has value `""`. Empty segments (`a=1&&b=2`) are skipped.
/// The result borrows from `query` when no decoding was needed.
pub fn query_param<'a>(query: &'a str, key: &str) -> Option<Cow<'a, str>> {
    query_segments(query)
        .find(|(k, _)| decode_component(k) == key)
        .map(|(_, v)| decode_component(v))
}

/// All pairs of a raw query string, in order, decoded as in
/// [`query_param`].
pub fn query_pairs(query: &str) -> Vec<(String, String)> {
    query_segments(query)
        .map(|(k, v)| {
            (
                decode_component(k).into_owned(),
                decode_component(v).into_owned(),
            )
        })
        .collect()
}

/// Raw (key, value) segments of a query string, empty segments skipped.
fn query_segments(query: &str) -> impl Iterator<Item = (&str, &str)> {
    query
        .split('&')
        .filter(|s| !s.is_empty())
        .map(|s| s.split_once('=').unwrap_or((s, "")))
}

/// Decodes one `application/x-www-form-urlencoded` component.
fn decode_component(s: &str) -> Cow<'_, str> {
    let bytes = s.as_bytes();
    if !bytes.iter().any(|&b| b == b'%' || b == b'+') {
        return Cow::Borrowed(s);
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => {
                let hi = bytes.get(i + 1).copied().and_then(hex_value);
                let lo = bytes.get(i + 2).copied().and_then(hex_value);
                if let (Some(hi), Some(lo)) = (hi, lo) {
                    out.push((hi << 4) | lo);
                    i += 3;
                } else {
                    out.push(b'%');
                    i += 1;
                }
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    match String::from_utf8(out) {
        Ok(s) => Cow::Owned(s),
        Err(e) => Cow::Owned(String::from_utf8_lossy(e.as_bytes()).into_owned()),
    }
}
