use std::borrow::Cow;

use proptest::prelude::*;

use crate::wire::http::*;

#[test]
fn query_basic() {
    let q = "EIO=4&transport=polling&sid=abc";
    assert_eq!(query_param(q, "EIO").as_deref(), Some("4"));
    assert_eq!(query_param(q, "transport").as_deref(), Some("polling"));
    assert_eq!(query_param(q, "sid").as_deref(), Some("abc"));
    assert_eq!(query_param(q, "eio"), None);
    assert_eq!(query_param(q, "t"), None);
    assert_eq!(query_param("", "a"), None);
    assert!(matches!(query_param(q, "sid"), Some(Cow::Borrowed("abc"))));
}

#[test]
fn query_decoding() {
    let q = "a=hello+world&b=%41%62%2B&c=caf%C3%A9&d=a=b=c";
    assert_eq!(query_param(q, "a").as_deref(), Some("hello world"));
    assert_eq!(query_param(q, "b").as_deref(), Some("Ab+"));
    assert_eq!(query_param(q, "c").as_deref(), Some("café"));
    assert_eq!(query_param(q, "d").as_deref(), Some("a=b=c"));
    // Keys are compared after decoding.
    assert_eq!(query_param("%65io=4&my+key=v", "eio").as_deref(), Some("4"));
    assert_eq!(
        query_param("%65io=4&my+key=v", "my key").as_deref(),
        Some("v")
    );
    assert_eq!(query_param("%65io=4", "%65io"), None);
}

#[test]
fn query_missing_equals_and_empty_segments() {
    let q = "flag&&a=1&=anon&b=";
    assert_eq!(query_param(q, "flag").as_deref(), Some(""));
    assert_eq!(query_param(q, "a").as_deref(), Some("1"));
    assert_eq!(query_param(q, "").as_deref(), Some("anon"));
    assert_eq!(query_param(q, "b").as_deref(), Some(""));
    assert_eq!(
        query_pairs(q),
        [("flag", ""), ("a", "1"), ("", "anon"), ("b", "")]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
    );
}

#[test]
fn query_repeated_keys() {
    let q = "a=1&b=2&a=3";
    assert_eq!(query_param(q, "a").as_deref(), Some("1"));
    assert_eq!(
        query_pairs(q),
        [("a", "1"), ("b", "2"), ("a", "3")].map(|(k, v)| (k.to_owned(), v.to_owned()))
    );
}

#[test]
fn query_invalid_escapes_kept() {
    assert_eq!(query_param("a=%zz", "a").as_deref(), Some("%zz"));
    assert_eq!(query_param("a=%4", "a").as_deref(), Some("%4"));
    assert_eq!(query_param("a=%", "a").as_deref(), Some("%"));
    assert_eq!(query_param("a=100%25%", "a").as_deref(), Some("100%%"));
    assert_eq!(query_param("a=%%41", "a").as_deref(), Some("%A"));
    assert_eq!(query_param("a=%4g+", "a").as_deref(), Some("%4g "));
}

#[test]
fn query_non_utf8_is_lossy() {
    assert_eq!(
        query_param("a=%ff%fe", "a").as_deref(),
        Some("\u{fffd}\u{fffd}")
    );
    assert_eq!(query_param("a=x%C3", "a").as_deref(), Some("x\u{fffd}"));
    assert_eq!(
        query_pairs("%ff=1"),
        [("\u{fffd}".to_owned(), "1".to_owned())]
    );
}

fn form_encode(s: &str) -> String {
    let mut out = String::new();
    for &b in s.as_bytes() {
        match b {
            b' ' => out.push('+'),
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

proptest! {
    #[test]
    fn prop_query_roundtrip(pairs in prop::collection::vec((".{0,8}", ".{0,8}"), 0..6)) {
        let q = pairs
            .iter()
            .map(|(k, v)| format!("{}={}", form_encode(k), form_encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        // Pairs that encode to an empty segment ("=" is never empty, so
        // all of them survive).
        prop_assert_eq!(query_pairs(&q), pairs.clone());
        for (k, _) in &pairs {
            let first = pairs.iter().find(|(k2, _)| k2 == k).map(|(_, v)| v.as_str());
            let got = query_param(&q, k);
            prop_assert_eq!(got.as_deref(), first);
        }
    }

    #[test]
    fn prop_query_arbitrary_never_panics(q in ".{0,40}", key in ".{0,4}") {
        let _ = query_param(&q, &key);
        let _ = query_pairs(&q);
    }
}
