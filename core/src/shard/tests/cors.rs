//! The `cors` and `cookie` settings against Node's own answers: `core/tests/vectors/cors.json`
//! (made by `cors.mjs` beside it, with a real socket.io 4.8 server) holds, for each
//! configuration and request, the status and the CORS and cookie headers Node answered.

use std::time::Instant;

use regex_lite::Regex;
use serde::Deserialize;

use super::echo_app;
use crate::config::{Cookie, CookiePriority, Cors, CorsOrigin, OriginMatch, SameSite};
use crate::sim::{parse_responses, Sim};

#[derive(Debug, Deserialize)]
struct Vector {
    config: String,
    name: String,
    method: String,
    query: String,
    headers: Vec<(String, String)>,
    #[serde(default)]
    body: Option<String>,
    session: Option<String>,
    expect: Expect,
}

#[derive(Debug, Deserialize, PartialEq)]
struct Expect {
    status: Option<u16>,
    headers: Vec<(String, String)>,
}

/// The settings of each configuration of `cors.mjs`, in Rust.
fn settings(name: &str) -> (Option<Cors>, Option<Cookie>) {
    let cors = match name {
        "none" | "cookie_default" | "cookie_full" | "cookie_bare" | "cookie_none" => None,
        "any" => Some(Cors::any()),
        "any_credentials" => Some(Cors::any().credentials(true)),
        "fixed" => Some(Cors::any().origin("https://a.example")),
        "list" => Some(Cors::any().origin(CorsOrigin::list([
            OriginMatch::from("https://a.example"),
            OriginMatch::from(Regex::new(r"\.b\.example$").unwrap()),
        ]))),
        "pattern" => {
            Some(Cors::any().origin(CorsOrigin::pattern(r"^https://[a-z]+\.example$").unwrap()))
        }
        "reflect" | "cookie_and_cors" => {
            Some(Cors::any().origin(true).credentials(name == "reflect"))
        }
        "off" => Some(Cors::any().origin(false)),
        "function" => {
            Some(Cors::any().origin(CorsOrigin::function(|o| o == Some("https://a.example"))))
        }
        "full" => Some(
            Cors::any()
                .origin(CorsOrigin::list(["https://a.example"]))
                .methods(["GET", "POST"])
                .allowed_headers(["content-type", "x-token"])
                .exposed_headers(["x-a", "x-b"])
                .credentials(true)
                .max_age(600),
        ),
        "any_fixed_headers" => Some(
            Cors::any()
                .allowed_headers(["x-token"])
                .exposed_headers(["x-a"])
                .max_age(0),
        ),
        "preflight_continue" => Some(Cors::any().preflight_continue(true)),
        "status_200_no_methods" => Some(Cors {
            methods: String::new(),
            ..Cors::any().options_success_status(200)
        }),
        other => panic!("no settings for configuration {other}"),
    };
    let cookie = match name {
        "cookie_default" => Some(Cookie::default()),
        "cookie_full" => Some(
            Cookie::default()
                .name("sess")
                .path(Some("/x"))
                .http_only(false)
                .same_site(Some(SameSite::Strict))
                .secure(true)
                .domain("a.example")
                .max_age(3600)
                .expires(1_767_225_600)
                .partitioned(true)
                .priority(Some(CookiePriority::High)),
        ),
        "cookie_bare" => Some(
            Cookie::default()
                .path(None)
                .http_only(false)
                .same_site(None),
        ),
        "cookie_none" => Some(
            Cookie::default()
                .same_site(Some(SameSite::None))
                .secure(true)
                .expires(-62_198_755_200)
                .max_age(-1),
        ),
        "cookie_and_cors" => Some(Cookie::default().expires(951_782_400)),
        _ => None,
    };
    (cors, cookie)
}

/// The kept headers of a response (CORS and cookie ones, names lowercased), the sid in
/// them replaced by `{sid}`.
fn kept(headers: &[(String, String)], sid: &str) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
        .filter(|(k, _)| k.starts_with("access-control-") || k == "vary" || k == "set-cookie")
        .map(|(k, v)| {
            (
                k,
                if sid.is_empty() {
                    v
                } else {
                    v.replace(sid, "{sid}")
                },
            )
        })
        .collect()
}

/// Node writes the headers the `cors` package set before those of the answer (`Set-Cookie`);
/// corelay writes the answer's first. The order within each group is compared.
fn grouped(mut headers: Vec<(String, String)>) -> Vec<(String, String)> {
    headers.sort_by_key(|(k, _)| k == "set-cookie");
    headers
}

fn run(v: &Vector) -> Expect {
    let (cors, cookie) = settings(&v.config);
    let app = echo_app(Default::default(), |c| {
        c.cors = cors;
        c.cookie = cookie;
    });
    let mut sim = Sim::new(app, Instant::now());
    let mut sid = String::new();
    if let Some(session) = &v.session {
        let (c, s) = sim.polling_open();
        sid = s;
        if session == "connected" {
            let q = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
            assert_eq!(sim.post(c, &q, "40").unwrap().status, 200);
        }
    }
    let mut raw = format!(
        "{} /socket.io/?{} HTTP/1.1\r\nHost: x\r\n",
        v.method,
        v.query.replace("{sid}", &sid)
    );
    for (k, val) in &v.headers {
        raw.push_str(&format!("{k}: {val}\r\n"));
    }
    let body = v.body.as_deref().unwrap_or("");
    if !body.is_empty() {
        raw.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    raw.push_str("\r\n");
    raw.push_str(body);
    let c = sim.connect();
    sim.send(c, raw.as_bytes());
    let bytes = sim.take(c);
    if bytes.is_empty() {
        assert!(
            sim.is_shut(c),
            "{}/{}: no answer, yet open",
            v.config,
            v.name
        );
        return Expect {
            status: None,
            headers: Vec::new(),
        };
    }
    let r = if bytes.starts_with(b"HTTP/1.1 101") {
        // Only the head: WebSocket frames follow.
        let end = bytes.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
        let mut head = bytes[..end - 2].to_vec();
        head.extend_from_slice(b"Content-Length: 0\r\n\r\n");
        parse_responses(&head).remove(0)
    } else {
        parse_responses(&bytes).remove(0)
    };
    if sid.is_empty() && r.status == 200 && v.method == "GET" {
        sid = r.text()[9..29].to_owned();
    }
    Expect {
        status: Some(r.status),
        headers: grouped(kept(&r.headers, &sid)),
    }
}

#[test]
fn cors_and_cookie_answers_are_nodes() {
    let vectors: Vec<Vector> =
        serde_json::from_str(include_str!("../../../tests/vectors/cors.json")).unwrap();
    assert!(vectors.len() > 300);
    let mut failures = Vec::new();
    for v in &vectors {
        let expect = Expect {
            status: v.expect.status,
            headers: grouped(v.expect.headers.clone()),
        };
        let got = run(v);
        if got != expect {
            failures.push(format!(
                "{}/{}:\n  node    {expect:?}\n  corelay {got:?}",
                v.config, v.name
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {}:\n{}",
        failures.len(),
        vectors.len(),
        failures.join("\n")
    );
}

#[test]
fn expires_is_written_as_javascripts_to_utc_string() {
    use crate::date::utc_string;
    assert_eq!(utc_string(0), "Thu, 01 Jan 1970 00:00:00 GMT");
    assert_eq!(utc_string(1_767_225_600), "Thu, 01 Jan 2026 00:00:00 GMT");
    assert_eq!(
        utc_string(951_782_400 + 86_399),
        "Tue, 29 Feb 2000 23:59:59 GMT"
    );
    assert_eq!(utc_string(-1), "Wed, 31 Dec 1969 23:59:59 GMT");
    assert_eq!(
        utc_string(-62_198_755_200),
        "Fri, 01 Jan -0001 00:00:00 GMT"
    );
    assert_eq!(
        utc_string(253_402_300_800),
        "Sat, 01 Jan 10000 00:00:00 GMT"
    );
}
