//! Between corelay's values and the adapter's: event arguments, acknowledgements, sockets.
//!
//! corelay holds event arguments as JSON text with binary attachments behind placeholders
//! (`{"_placeholder":true,"num":N}`), as the Socket.IO wire does; the adapter's messages hold
//! JavaScript values with binary in place (msgpack bin). These functions turn one into the
//! other, each once per message.

use bytes::Bytes;
use corelay_core::{Args, SocketHandshake, SocketInfo};
use rmpv::Value;
use serde::ser::SerializeTuple;
use serde::{Serialize, Serializer};

use crate::value::{key_text, BinaryAs, Json};
use crate::FetchedSocket;

/// A JSON value of corelay's, with its placeholders replaced by the attachments they name.
pub(crate) fn from_json(json: &serde_json::Value, attachments: &[Bytes]) -> Value {
    match json {
        serde_json::Value::Null => Value::Nil,
        serde_json::Value::Bool(b) => Value::Boolean(*b),
        serde_json::Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                Value::from(u)
            } else if let Some(i) = n.as_i64() {
                Value::from(i)
            } else {
                Value::F64(n.as_f64().unwrap_or(f64::NAN))
            }
        }
        serde_json::Value::String(s) => Value::from(s.as_str()),
        serde_json::Value::Array(items) => {
            Value::Array(items.iter().map(|v| from_json(v, attachments)).collect())
        }
        serde_json::Value::Object(map) => {
            if let Some(bytes) = placeholder(map, attachments) {
                return Value::Binary(bytes.to_vec());
            }
            let entries = map
                .iter()
                .map(|(k, v)| (Value::from(k.as_str()), from_json(v, attachments)));
            Value::Map(entries.collect())
        }
    }
}

/// A value of the adapter's as corelay's JSON: binary values become placeholders, and the
/// attachments they name.
pub(crate) fn with_placeholders(value: &Value) -> (serde_json::Value, Vec<Bytes>) {
    fn walk(value: &Value, out: &mut Vec<Bytes>) -> serde_json::Value {
        match value {
            Value::Binary(bytes) => {
                out.push(Bytes::copy_from_slice(bytes));
                serde_json::json!({"_placeholder": true, "num": out.len() - 1})
            }
            Value::Array(items) => items.iter().map(|v| walk(v, out)).collect(),
            Value::Map(entries) => serde_json::Value::Object(
                entries
                    .iter()
                    .filter(|(_, v)| !matches!(v, Value::Ext(..)))
                    .map(|(k, v)| (key_text(k), walk(v, out)))
                    .collect(),
            ),
            other => to_json(other),
        }
    }
    let mut attachments = Vec::new();
    let json = walk(value, &mut attachments);
    (json, attachments)
}

/// The attachment a placeholder object names.
fn placeholder<'a>(
    map: &serde_json::Map<String, serde_json::Value>,
    attachments: &'a [Bytes],
) -> Option<&'a Bytes> {
    if map.len() != 2 || map.get("_placeholder") != Some(&serde_json::Value::Bool(true)) {
        return None;
    }
    let num = map.get("num")?.as_u64()?;
    attachments.get(usize::try_from(num).ok()?)
}

/// A value of the adapter's as JSON, binary as `JSON.stringify` writes a Node `Buffer`.
pub(crate) fn to_json(value: &Value) -> serde_json::Value {
    let text = crate::value::write(value, crate::Format::Json);
    serde_json::from_slice(&text).unwrap_or(serde_json::Value::Null)
}

/// Every argument of `args`, as the adapter's values.
pub(crate) fn args_values(args: &Args) -> Vec<Value> {
    let values: Vec<serde_json::Value> = args.parse().unwrap_or_default();
    let attachments = args.attachments();
    values.iter().map(|v| from_json(v, attachments)).collect()
}

/// Arguments of the adapter's, serialized for corelay's packet writer: several arguments (a
/// tuple), binary values as attachments.
pub(crate) struct Spread<'a>(pub &'a [Value]);

impl Serialize for Spread<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut tuple = s.serialize_tuple(self.0.len())?;
        for v in self.0 {
            tuple.serialize_element(&Json(v, BinaryAs::Attachment))?;
        }
        tuple.end()
    }
}

/// A socket of this server, as a fetch answer carries it. Data that is `null` goes as `{}`,
/// Node's default `socket.data`, so that a Node server reading a member of it does not throw.
pub(crate) fn fetched(info: &SocketInfo) -> FetchedSocket {
    let handshake = serde_json::to_value(&info.handshake).unwrap_or_default();
    let data = match &info.data {
        serde_json::Value::Null => Value::Map(Vec::new()),
        data => from_json(data, &[]),
    };
    FetchedSocket {
        id: info.id.clone(),
        handshake: from_json(&handshake, &[]),
        rooms: info.rooms.clone(),
        data: Some(data),
    }
}

/// A socket of another server, in namespace `nsp`.
pub(crate) fn socket_info(nsp: &str, socket: &FetchedSocket) -> SocketInfo {
    let json = to_json(&socket.handshake);
    SocketInfo {
        id: socket.id.clone(),
        nsp: nsp.to_owned(),
        handshake: handshake(json),
        rooms: socket.rooms.clone(),
        data: socket
            .data
            .as_ref()
            .map_or(serde_json::Value::Null, to_json),
    }
}

/// A Node handshake object read leniently: a member missing or of another shape takes an
/// empty value rather than losing the socket.
fn handshake(json: serde_json::Value) -> SocketHandshake {
    if let Ok(h) = serde_json::from_value::<SocketHandshake>(json.clone()) {
        return h;
    }
    let field = |key: &str| json.get(key).cloned().unwrap_or(serde_json::Value::Null);
    let text = |key: &str| field(key).as_str().unwrap_or_default().to_owned();
    let pairs = |key: &str| {
        let map = field(key);
        let map = map.as_object().cloned().unwrap_or_default();
        let items = map.into_iter().map(|(k, v)| {
            let v = match v {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            };
            (k, v)
        });
        serde_json::from_value(serde_json::Value::Object(
            items
                .map(|(k, v)| (k, serde_json::Value::String(v)))
                .collect(),
        ))
        .unwrap_or_default()
    };
    SocketHandshake {
        headers: pairs("headers"),
        time: text("time"),
        address: text("address"),
        xdomain: field("xdomain").as_bool().unwrap_or(false),
        secure: field("secure").as_bool().unwrap_or(false),
        issued: field("issued").as_u64().unwrap_or(0),
        url: text("url"),
        query: pairs("query"),
        auth: match field("auth") {
            serde_json::Value::Null => serde_json::json!({}),
            auth => auth,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_binary_and_back() {
        let json = serde_json::json!(["e", {"_placeholder": true, "num": 0}, {"a": [1, -2, 1.5]}]);
        let v = from_json(&json, &[Bytes::from_static(&[1, 2])]);
        assert_eq!(
            v,
            Value::Array(vec![
                Value::from("e"),
                Value::Binary(vec![1, 2]),
                Value::Map(vec![(
                    Value::from("a"),
                    Value::Array(vec![Value::from(1), Value::from(-2), Value::F64(1.5)])
                )]),
            ])
        );
        assert_eq!(
            to_json(&Value::Binary(vec![1])),
            serde_json::json!({"type": "Buffer", "data": [1]})
        );
        // A placeholder naming no attachment stays an object.
        let lone = serde_json::json!({"_placeholder": true, "num": 3});
        assert!(matches!(from_json(&lone, &[]), Value::Map(_)));
    }

    #[test]
    fn a_node_handshake_with_odd_members_is_read() {
        let h = handshake(serde_json::json!({
            "headers": {"host": "x", "n": 3},
            "time": "t",
            "address": "::1",
            "issued": 5,
            "query": {"EIO": "4"},
        }));
        assert_eq!(h.address, "::1");
        assert_eq!(h.issued, 5);
        assert_eq!(h.auth, serde_json::json!({}));
    }
}
