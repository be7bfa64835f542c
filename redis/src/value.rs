//! The one value model of both encodings, and the field readers every message decoder uses.
//!
//! Node's adapter sends some messages through `notepack.io` (msgpack) and others through
//! `JSON.stringify`; both hold JavaScript values. Here both become an [`rmpv::Value`]: msgpack
//! is read with `rmpv` (no preallocation from untrusted lengths, a depth limit), JSON is parsed
//! by `serde_json` straight into the same `Value`, keeping the key order of objects.
//!
//! Writing follows what Node writes: msgpack with `rmpv`, whose choice of the smallest integer,
//! string, binary, array and map forms is the one `notepack.io` makes; a float that holds an
//! integer is written as an integer, as JavaScript has a single number type. JSON is written
//! as `JSON.stringify` would: binary as a Node `Buffer` (`{"type":"Buffer","data":[...]}`),
//! non-finite numbers and extension values as `null`.

use rmpv::Value;
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

use crate::DecodeError;

/// Nesting limit for both encodings; `serde_json` stops at the same depth.
const MAX_DEPTH: usize = 128;

/// Which encoding a message uses on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `JSON.stringify`, always an object, so the first byte is `{`.
    Json,
    /// msgpack as `notepack.io` writes it.
    Msgpack,
}

impl Format {
    /// The rule both Node adapters apply to a received message: a first byte `{` (0x7b) is
    /// JSON, anything else msgpack. (A msgpack message never starts with 0x7b, a positive
    /// fixint, since every message is an array or a map.)
    pub fn detect(bytes: &[u8]) -> Format {
        if bytes.first() == Some(&b'{') {
            Format::Json
        } else {
            Format::Msgpack
        }
    }
}

/// Reads one value in `format`; the whole input must be that one value.
pub(crate) fn read(bytes: &[u8], format: Format) -> Result<Value, DecodeError> {
    if bytes.is_empty() {
        return Err(DecodeError::Empty);
    }
    match format {
        Format::Json => Ok(serde_json::from_slice(bytes)?),
        Format::Msgpack => {
            let mut rest = bytes;
            let value = rmpv::decode::read_value_with_max_depth(&mut rest, MAX_DEPTH)
                .map_err(|e| DecodeError::Msgpack(e.to_string()))?;
            if rest.is_empty() {
                Ok(value)
            } else {
                Err(DecodeError::TrailingBytes(rest.len()))
            }
        }
    }
}

/// Writes `value` in `format`.
pub(crate) fn write(value: &Value, format: Format) -> Vec<u8> {
    let mut out = Vec::new();
    match format {
        // Writing to a Vec can not fail, and `Json` never returns an error.
        Format::Json => serde_json::to_writer(&mut out, &Json(value, BinaryAs::Buffer))
            .expect("JSON into a Vec"),
        Format::Msgpack => {
            rmpv::encode::write_value(&mut out, &normalize(value)).expect("msgpack into a Vec")
        }
    }
    out
}

/// Whether a value holds binary somewhere (Node's `hasBinary`).
pub(crate) fn has_binary(value: &Value) -> bool {
    match value {
        Value::Binary(_) => true,
        Value::Array(items) => items.iter().any(has_binary),
        Value::Map(entries) => entries.iter().any(|(_, v)| has_binary(v)),
        _ => false,
    }
}

/// A float that JavaScript would hold as an integer becomes one, as `notepack.io` writes it.
fn normalize(value: &Value) -> std::borrow::Cow<'_, Value> {
    use std::borrow::Cow;
    fn needs(value: &Value) -> bool {
        match value {
            Value::F64(f) => integral(*f).is_some(),
            Value::F32(f) => integral(f64::from(*f)).is_some(),
            Value::Array(items) => items.iter().any(needs),
            Value::Map(entries) => entries.iter().any(|(k, v)| needs(k) || needs(v)),
            _ => false,
        }
    }
    fn owned(value: &Value) -> Value {
        match value {
            Value::F64(f) => integral(*f).unwrap_or(Value::F64(*f)),
            Value::F32(f) => integral(f64::from(*f)).unwrap_or(Value::F32(*f)),
            Value::Array(items) => Value::Array(items.iter().map(owned).collect()),
            Value::Map(entries) => {
                Value::Map(entries.iter().map(|(k, v)| (owned(k), owned(v))).collect())
            }
            other => other.clone(),
        }
    }
    if needs(value) {
        Cow::Owned(owned(value))
    } else {
        Cow::Borrowed(value)
    }
}

/// The integer a JavaScript number holds, if it holds one that fits 64 bits.
fn integral(f: f64) -> Option<Value> {
    if !f.is_finite() || f.fract() != 0.0 {
        return None;
    }
    if (0.0..18_446_744_073_709_551_616.0).contains(&f) {
        Some(Value::from(f as u64))
    } else if (-9_223_372_036_854_775_808.0..0.0).contains(&f) {
        Some(Value::from(f as i64))
    } else {
        None
    }
}

/// How [`Json`] writes binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BinaryAs {
    /// As `JSON.stringify` writes a Node `Buffer`: `{"type":"Buffer","data":[...]}`.
    Buffer,
    /// As a [`corelay_core::Binary`]: inside corelay's packet writer, an attachment behind a
    /// placeholder.
    Attachment,
}

/// A [`Value`] written as `JSON.stringify` writes the JavaScript value it stands for (binary
/// as the second member says).
pub(crate) struct Json<'a>(pub &'a Value, pub BinaryAs);

impl Serialize for Json<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Nil | Value::Ext(..) => s.serialize_unit(),
            Value::Boolean(b) => s.serialize_bool(*b),
            Value::Integer(i) => match (i.as_u64(), i.as_i64()) {
                (Some(u), _) => s.serialize_u64(u),
                (None, Some(n)) => s.serialize_i64(n),
                // rmpv integers are always u64 or i64.
                (None, None) => s.serialize_unit(),
            },
            Value::F32(f) => Json(&Value::F64(f64::from(*f)), self.1).serialize(s),
            // JSON.stringify writes a non-finite number as `null`, any other as JavaScript
            // spells it (`1e+21`, `1e-7`, `100000000000000000000`), which is not how serde_json
            // spells every float: the text goes in as a raw value.
            Value::F64(f) if f.is_finite() => {
                let text = serde_json::value::RawValue::from_string(js_number(*f))
                    .map_err(serde::ser::Error::custom)?;
                text.serialize(s)
            }
            Value::F64(_) => s.serialize_unit(),
            Value::String(text) => s.serialize_str(&String::from_utf8_lossy(text.as_bytes())),
            Value::Binary(bytes) if self.1 == BinaryAs::Attachment => {
                corelay_core::Binary(bytes::Bytes::copy_from_slice(bytes)).serialize(s)
            }
            Value::Binary(bytes) => {
                let mut map = s.serialize_map(Some(2))?;
                map.serialize_entry("type", "Buffer")?;
                map.serialize_entry("data", bytes)?;
                map.end()
            }
            Value::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(&Json(item, self.1))?;
                }
                seq.end()
            }
            Value::Map(entries) => {
                let mut map = s.serialize_map(Some(entries.len()))?;
                for (key, value) in entries {
                    // JSON.stringify drops `undefined` members; msgpack has no undefined but
                    // notepack's fixext 0 (decoded as undefined) is an extension here.
                    if matches!(value, Value::Ext(..)) {
                        continue;
                    }
                    map.serialize_entry(&key_text(key), &Json(value, self.1))?;
                }
                map.end()
            }
        }
    }
}

/// A finite number as JavaScript's `Number.prototype.toString` spells it (the core's writer).
pub(crate) fn js_number(f: f64) -> String {
    corelay_core::wire::js_number(f)
}

/// An object key as JavaScript spells it.
pub(crate) fn key_text(key: &Value) -> String {
    match key {
        Value::String(text) => String::from_utf8_lossy(text.as_bytes()).into_owned(),
        other => {
            let json = serde_json::to_string(&Json(other, BinaryAs::Buffer)).unwrap_or_default();
            json.trim_matches('"').to_owned()
        }
    }
}

// ------------------------------------------------------------------------- building values

/// Builds a map value from `(key, value)` pairs in wire order, skipping absent members.
pub(crate) fn map<const N: usize>(entries: [(&str, Option<Value>); N]) -> Value {
    Value::Map(
        entries
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (Value::from(k), v)))
            .collect(),
    )
}

pub(crate) fn strings(items: &[String]) -> Value {
    Value::Array(items.iter().map(|s| Value::from(s.as_str())).collect())
}

// ------------------------------------------------------------------------- reading fields

/// The members of an object, as read from either encoding.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fields<'a> {
    entries: &'a [(Value, Value)],
}

impl<'a> Fields<'a> {
    /// `value` must be an object; `what` names it in the error.
    pub(crate) fn of(value: &'a Value, what: &'static str) -> Result<Self, DecodeError> {
        match value {
            Value::Map(entries) => Ok(Fields { entries }),
            _ => Err(DecodeError::WrongType {
                field: what,
                expected: "an object",
            }),
        }
    }

    /// A member; the last one wins when a key repeats, as with `JSON.parse` and notepack.
    /// A JSON `null` or msgpack nil counts as present.
    pub(crate) fn get(&self, key: &str) -> Option<&'a Value> {
        self.entries
            .iter()
            .rev()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v)
    }

    pub(crate) fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    pub(crate) fn value(&self, key: &'static str) -> Result<&'a Value, DecodeError> {
        self.get(key).ok_or(DecodeError::MissingField(key))
    }

    pub(crate) fn string(&self, key: &'static str) -> Result<String, DecodeError> {
        string(self.value(key)?, key)
    }

    pub(crate) fn opt_string(&self, key: &'static str) -> Result<Option<String>, DecodeError> {
        self.get(key).map(|v| string(v, key)).transpose()
    }

    pub(crate) fn uint(&self, key: &'static str) -> Result<u64, DecodeError> {
        uint(self.value(key)?, key)
    }

    pub(crate) fn opt_uint(&self, key: &'static str) -> Result<Option<u64>, DecodeError> {
        self.get(key).map(|v| uint(v, key)).transpose()
    }

    pub(crate) fn opt_bool(&self, key: &'static str) -> Result<Option<bool>, DecodeError> {
        self.get(key)
            .map(|v| {
                v.as_bool().ok_or(DecodeError::WrongType {
                    field: key,
                    expected: "a boolean",
                })
            })
            .transpose()
    }

    pub(crate) fn array(&self, key: &'static str) -> Result<&'a [Value], DecodeError> {
        match self.value(key)? {
            Value::Array(items) => Ok(items),
            _ => Err(DecodeError::WrongType {
                field: key,
                expected: "an array",
            }),
        }
    }

    /// An array of room names. JavaScript rooms may be numbers (the classic adapter looks
    /// numeric rooms up as numbers); an integer becomes its decimal text.
    pub(crate) fn rooms(&self, key: &'static str) -> Result<Vec<String>, DecodeError> {
        self.array(key)?
            .iter()
            .map(|v| match v {
                Value::Integer(i) => Ok(i.to_string()),
                other => string(other, key),
            })
            .collect()
    }
}

pub(crate) fn string(value: &Value, field: &'static str) -> Result<String, DecodeError> {
    value
        .as_str()
        .map(str::to_owned)
        .ok_or(DecodeError::WrongType {
            field,
            expected: "a UTF-8 string",
        })
}

/// A non-negative integer; JSON may spell it as a float (`1e3`).
pub(crate) fn uint(value: &Value, field: &'static str) -> Result<u64, DecodeError> {
    let wrong = DecodeError::WrongType {
        field,
        expected: "a non-negative integer",
    };
    match value {
        Value::Integer(i) => i.as_u64().ok_or(wrong),
        Value::F64(f) => match integral(*f) {
            Some(Value::Integer(i)) => i.as_u64().ok_or(wrong),
            _ => Err(wrong),
        },
        _ => Err(wrong),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_spelled_as_javascript_spells_them() {
        for (f, js) in [
            (0.0, "0"),
            (-0.0, "0"),
            (1.0, "1"),
            (-2.5, "-2.5"),
            (0.1, "0.1"),
            (100.0, "100"),
            (1e20, "100000000000000000000"),
            (1e21, "1e+21"),
            (1.5e21, "1.5e+21"),
            (123456789.125, "123456789.125"),
            (1e-6, "0.000001"),
            (1.5e-6, "0.0000015"),
            (1e-7, "1e-7"),
            (1.25e-7, "1.25e-7"),
            (5e-324, "5e-324"),
            (f64::MAX, "1.7976931348623157e+308"),
            (9007199254740993.0, "9007199254740992"),
            (1152921504606846976.0, "1152921504606847000"),
        ] {
            assert_eq!(js_number(f), js, "{f:e}");
        }
    }

    #[test]
    fn spelled_numbers_read_back_exactly() {
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let f = f64::from_bits(x);
            if f.is_finite() {
                assert_eq!(js_number(f).parse::<f64>().unwrap(), f, "{f:e}");
            }
        }
    }

    #[test]
    fn json_floats_are_written_as_javascript_writes_them() {
        let value = Value::Array(vec![
            Value::F64(1e21),
            Value::F64(2.0),
            Value::F64(f64::NAN),
            Value::F32(0.5),
        ]);
        assert_eq!(write(&value, Format::Json), b"[1e+21,2,null,0.5]");
    }
}
