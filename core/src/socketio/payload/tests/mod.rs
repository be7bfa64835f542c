//! Tests of the payload (de)serialization: writing packets, reading arguments, and
//! property tests of the round trip.

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{de, ser, Deserialize, Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::{json, Value};

use super::*;

/// A decoded packet text: (type, attachments, nsp, id, JSON).
#[derive(Debug)]
struct Packet {
    ty: u8,
    attachments: usize,
    nsp: String,
    id: Option<u64>,
    json: Bytes,
}

/// Minimal head parser for the tests.
fn split_packet(text: &[u8]) -> Packet {
    let ty = text[0];
    let mut i = 1;
    let mut attachments = 0;
    if ty == b'5' || ty == b'6' {
        let dash = text.iter().position(|&b| b == b'-').unwrap();
        attachments = std::str::from_utf8(&text[1..dash])
            .unwrap()
            .parse()
            .unwrap();
        i = dash + 1;
    }
    let mut nsp = "/".to_owned();
    if text[i] == b'/' {
        let comma = i + text[i..].iter().position(|&b| b == b',').unwrap();
        nsp = std::str::from_utf8(&text[i..comma]).unwrap().to_owned();
        i = comma + 1;
    }
    let digits = text[i..].iter().take_while(|b| b.is_ascii_digit()).count();
    let id = (digits > 0).then(|| {
        std::str::from_utf8(&text[i..i + digits])
            .unwrap()
            .parse()
            .unwrap()
    });
    i += digits;
    Packet {
        ty,
        attachments,
        nsp,
        id,
        json: Bytes::copy_from_slice(&text[i..]),
    }
}

fn event<T: Serialize + ?Sized>(
    nsp: &str,
    id: Option<u64>,
    ev: &str,
    args: &T,
) -> (String, Vec<Bytes>) {
    let mut out = BytesMut::new();
    let atts = write_event(&mut out, nsp, id, ev, args).unwrap();
    (String::from_utf8(out.to_vec()).unwrap(), atts)
}

fn ack<T: Serialize + ?Sized>(nsp: &str, id: u64, args: &T) -> (String, Vec<Bytes>) {
    let mut out = BytesMut::new();
    let atts = write_ack(&mut out, nsp, id, args).unwrap();
    (String::from_utf8(out.to_vec()).unwrap(), atts)
}

/// The `Args` of an event written by `write_event`.
fn received<T: Serialize + ?Sized>(args: &T) -> Args {
    let mut out = BytesMut::new();
    let atts = write_event(&mut out, "/", None, "ev", args).unwrap();
    let p = split_packet(&out);
    assert_eq!(p.attachments, atts.len());
    Args::new(Some(p.json), true, atts)
}

fn bin(b: &'static [u8]) -> Binary {
    Binary(Bytes::from_static(b))
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct User {
    name: String,
    age: u32,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct File {
    name: String,
    content: Binary,
    chunks: Vec<Binary>,
}

fn json_map_with_binary() -> std::collections::BTreeMap<&'static str, Binary> {
    let mut map = std::collections::BTreeMap::new();
    map.insert("x", bin(b"def"));
    map
}

mod props;
mod read;
mod write;
