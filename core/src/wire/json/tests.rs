use super::*;
use proptest::prelude::*;

#[test]
fn json_escaping_matches_serde_json() {
    let s: String = (0u32..0x80).filter_map(char::from_u32).collect();
    let mut ours = String::new();
    push_string(&mut ours, &s);
    assert_eq!(ours, serde_json::to_string(&s).unwrap());
}

proptest! {
    #[test]
    fn json_strings_match_serde_json(s in any::<String>()) {
        let mut ours = String::new();
        push_string(&mut ours, &s);
        prop_assert_eq!(ours, serde_json::to_string(&s).unwrap());
    }

    #[test]
    fn unescape_matches_serde_json(s in any::<String>()) {
        let lit = serde_json::to_string(&s).unwrap();
        let inner = &lit.as_bytes()[1..lit.len() - 1];
        let unescaped = unescape(inner);
        prop_assert_eq!(unescaped.as_deref(), Some(s.as_str()));
    }
}

/// The byte-at-a-time scan `string_end` replaced in the Socket.IO codec.
fn string_end_reference(b: &[u8], open: usize) -> Option<usize> {
    let mut i = open + 1;
    loop {
        match *b.get(i)? {
            b'"' => return Some(i + 1),
            b'\\' => i += 2,
            _ => i += 1,
        }
    }
}

#[test]
fn string_end_and_string() {
    assert_eq!(string_end(br#""abc",1"#, 0), Some(5));
    assert_eq!(string_end(br#"x"a\"b\\"y"#, 1), Some(9));
    assert_eq!(string_end(br#""unterminated"#, 0), None);
    assert_eq!(string_end(br#""ends in a backslash\"#, 0), None);
    assert_eq!(
        string(br#" "a\u0041\n" "#, 1),
        Some((Cow::Owned("aA\n".to_owned()), 12))
    );
    assert_eq!(string(br#""plain""#, 0), Some((Cow::Borrowed("plain"), 7)));
    assert_eq!(string(b"1", 0), None);
    assert_eq!(
        member_key(br#"{ "k" : 1}"#, 1),
        Some((Cow::Borrowed("k"), 8))
    );
    assert_eq!(member_key(br#"{"k" 1}"#, 1), None);
}

#[test]
fn elements_spans() {
    let text = br#" [ 1 , "a,]" , {"x":[2,3]} ,[] ] "#;
    let spans: Vec<&[u8]> = Elements::new(text, false)
        .map(|(s, e)| &text[s..e])
        .collect();
    assert_eq!(spans, [&b"1"[..], br#""a,]""#, br#"{"x":[2,3]}"#, b"[]"]);
    assert_eq!(Elements::new(text, true).count(), 3);
    assert_eq!(Elements::new(b"[]", false).count(), 0);
    assert_eq!(Elements::new(b"{}", false).count(), 0);
    // An unterminated string runs to the end of the text.
    let text = br#"[1,"abc"#;
    let spans: Vec<_> = Elements::new(text, false).collect();
    assert_eq!(spans, [(1, 2), (3, text.len())]);
}

#[test]
fn white_space() {
    assert_eq!(skip_ws(b" \t\r\nx", 0), 4);
    assert_eq!(skip_ws(b"  ", 0), 2);
    assert_eq!(trim_ws_end(b"ab \n\t\r"), 2);
    assert_eq!(trim_ws_end(b" \n"), 0);
    assert!(!is_ws(0x0c));
}

proptest! {
    #[test]
    fn string_end_matches_reference(
        text in prop::collection::vec(
            prop::sample::select(b"\"\\ab\xc3\xa9".to_vec()),
            0..40,
        ),
        open in 0usize..40,
    ) {
        prop_assert_eq!(string_end(&text, open), string_end_reference(&text, open));
    }
}
