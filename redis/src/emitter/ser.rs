//! Rust values (`serde::Serialize`) as the JavaScript values a Node emitter would send.
//!
//! The model is serde_json's: what `JSON.parse` makes of `serde_json::to_string(&value)` is the
//! JavaScript value the Rust value stands for, and that value is what `notepack.io` (msgpack)
//! or `JSON.stringify` would then write. So structs and maps become objects, `Option::None`
//! and `()` become `null`, a unit enum variant its name, another variant `{"Variant": ...}`;
//! integers stay integers (notepack writes the smallest form), floats are numbers (an `f32` as
//! the decimal it prints as, `1.1f32` as `1.1`). Unlike JSON, bytes serialized as bytes
//! ([`Binary`](super::Binary), `serde_bytes`) stay binary: a Node `Buffer`, msgpack bin.
//!
//! An object's keys are strings (an integer, `char` or `bool` key is written as text) in the
//! order JavaScript keeps them: keys that are array indices (`"0"`, `"7"`, not `"07"`) first,
//! in numeric order, then the others in insertion order; a repeated key keeps its first place
//! and its last value.

use std::collections::HashMap;
use std::fmt::Display;

use rmpv::Value;
use serde::ser::{
    self, Impossible, Serialize, SerializeMap, SerializeSeq, SerializeStruct,
    SerializeStructVariant, SerializeTuple, SerializeTupleStruct, SerializeTupleVariant,
    Serializer,
};

use super::Error;

impl ser::Error for Error {
    fn custom<T: Display>(msg: T) -> Self {
        Error::Serialize(msg.to_string())
    }
}

/// One value.
pub(crate) fn to_value<T: Serialize + ?Sized>(value: &T) -> Result<Value, Error> {
    value.serialize(ValueSer)
}

/// An event's arguments: a tuple is several arguments, `()` none, anything else one.
pub(crate) fn to_args<T: Serialize + ?Sized>(args: &T) -> Result<Vec<Value>, Error> {
    args.serialize(ArgsSer)
}

/// The JavaScript number an `f32` prints as.
fn f32_value(f: f32) -> Value {
    if f.is_finite() {
        // Display writes the shortest decimal that reads back as `f`.
        Value::F64(f.to_string().parse().unwrap_or(f64::from(f)))
    } else {
        Value::F64(f64::from(f))
    }
}

fn i128_value(n: i128) -> Value {
    if let Ok(n) = i64::try_from(n) {
        Value::from(n)
    } else if let Ok(n) = u64::try_from(n) {
        Value::from(n)
    } else {
        Value::F64(n as f64)
    }
}

/// A JavaScript object from its members in insertion order (see the module docs).
fn js_object(entries: Vec<(String, Value)>) -> Value {
    let mut members: Vec<(String, Value)> = Vec::with_capacity(entries.len());
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (key, value) in entries {
        match seen.get(&key) {
            Some(&i) => members[i].1 = value,
            None => {
                seen.insert(key.clone(), members.len());
                members.push((key, value));
            }
        }
    }
    // A stable sort: the indices by number, before the other keys, which keep their order.
    members.sort_by_key(|(key, _)| array_index(key).map_or((1, 0), |i| (0, i)));
    Value::Map(
        members
            .into_iter()
            .map(|(k, v)| (Value::from(k), v))
            .collect(),
    )
}

/// The array index a key spells, as JavaScript's property order counts them: a canonical
/// decimal below 2^32 - 1.
fn array_index(key: &str) -> Option<u32> {
    let canonical = key == "0"
        || (!key.is_empty() && !key.starts_with('0') && key.bytes().all(|b| b.is_ascii_digit()));
    if !canonical {
        return None;
    }
    key.parse::<u32>().ok().filter(|&i| i != u32::MAX)
}

// ------------------------------------------------------------------------------ values

struct ValueSer;

impl Serializer for ValueSer {
    type Ok = Value;
    type Error = Error;
    type SerializeSeq = SeqSer;
    type SerializeTuple = SeqSer;
    type SerializeTupleStruct = SeqSer;
    type SerializeTupleVariant = VariantSer<SeqSer>;
    type SerializeMap = MapSer;
    type SerializeStruct = MapSer;
    type SerializeStructVariant = VariantSer<MapSer>;

    fn serialize_bool(self, v: bool) -> Result<Value, Error> {
        Ok(Value::Boolean(v))
    }
    fn serialize_i8(self, v: i8) -> Result<Value, Error> {
        Ok(Value::from(v))
    }
    fn serialize_i16(self, v: i16) -> Result<Value, Error> {
        Ok(Value::from(v))
    }
    fn serialize_i32(self, v: i32) -> Result<Value, Error> {
        Ok(Value::from(v))
    }
    fn serialize_i64(self, v: i64) -> Result<Value, Error> {
        Ok(Value::from(v))
    }
    fn serialize_i128(self, v: i128) -> Result<Value, Error> {
        Ok(i128_value(v))
    }
    fn serialize_u8(self, v: u8) -> Result<Value, Error> {
        Ok(Value::from(v))
    }
    fn serialize_u16(self, v: u16) -> Result<Value, Error> {
        Ok(Value::from(v))
    }
    fn serialize_u32(self, v: u32) -> Result<Value, Error> {
        Ok(Value::from(v))
    }
    fn serialize_u64(self, v: u64) -> Result<Value, Error> {
        Ok(Value::from(v))
    }
    fn serialize_u128(self, v: u128) -> Result<Value, Error> {
        Ok(match u64::try_from(v) {
            Ok(v) => Value::from(v),
            Err(_) => Value::F64(v as f64),
        })
    }
    fn serialize_f32(self, v: f32) -> Result<Value, Error> {
        Ok(f32_value(v))
    }
    fn serialize_f64(self, v: f64) -> Result<Value, Error> {
        Ok(Value::F64(v))
    }
    fn serialize_char(self, v: char) -> Result<Value, Error> {
        Ok(Value::from(v.to_string()))
    }
    fn serialize_str(self, v: &str) -> Result<Value, Error> {
        Ok(Value::from(v))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Value, Error> {
        Ok(Value::Binary(v.to_vec()))
    }
    fn serialize_none(self) -> Result<Value, Error> {
        Ok(Value::Nil)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Value, Error> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Value, Error> {
        Ok(Value::Nil)
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<Value, Error> {
        Ok(Value::Nil)
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<Value, Error> {
        Ok(Value::from(variant))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<Value, Error> {
        let inner = value.serialize(self)?;
        if name == rmpv::MSGPACK_EXT_STRUCT_NAME {
            // An `rmpv::Value::Ext` passed through: `(type, bytes)`.
            if let Value::Array(items) = &inner {
                if let [Value::Integer(ty), Value::Binary(data)] = items.as_slice() {
                    if let Some(ty) = ty.as_i64().and_then(|t| i8::try_from(t).ok()) {
                        return Ok(Value::Ext(ty, data.clone()));
                    }
                }
            }
        }
        Ok(inner)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Value, Error> {
        Ok(js_object(vec![(variant.into(), value.serialize(self)?)]))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<SeqSer, Error> {
        Ok(SeqSer(Vec::with_capacity(len.unwrap_or(0).min(4096))))
    }
    fn serialize_tuple(self, len: usize) -> Result<SeqSer, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<SeqSer, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<VariantSer<SeqSer>, Error> {
        Ok(VariantSer {
            variant,
            inner: self.serialize_seq(Some(len))?,
        })
    }
    fn serialize_map(self, len: Option<usize>) -> Result<MapSer, Error> {
        Ok(MapSer {
            entries: Vec::with_capacity(len.unwrap_or(0).min(4096)),
            key: None,
        })
    }
    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<MapSer, Error> {
        self.serialize_map(Some(len))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<VariantSer<MapSer>, Error> {
        Ok(VariantSer {
            variant,
            inner: self.serialize_map(Some(len))?,
        })
    }
}

/// An array's elements.
struct SeqSer(Vec<Value>);

impl SerializeSeq for SeqSer {
    type Ok = Value;
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.0.push(to_value(value)?);
        Ok(())
    }
    fn end(self) -> Result<Value, Error> {
        Ok(Value::Array(self.0))
    }
}

impl SerializeTuple for SeqSer {
    type Ok = Value;
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result<Value, Error> {
        SerializeSeq::end(self)
    }
}

impl SerializeTupleStruct for SeqSer {
    type Ok = Value;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result<Value, Error> {
        SerializeSeq::end(self)
    }
}

/// An object's members.
struct MapSer {
    entries: Vec<(String, Value)>,
    key: Option<String>,
}

impl SerializeMap for MapSer {
    type Ok = Value;
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        self.key = Some(key.serialize(KeySer)?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        let key = self
            .key
            .take()
            .ok_or_else(|| Error::Serialize("a map value without its key".into()))?;
        self.entries.push((key, to_value(value)?));
        Ok(())
    }
    fn end(self) -> Result<Value, Error> {
        Ok(js_object(self.entries))
    }
}

impl SerializeStruct for MapSer {
    type Ok = Value;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.entries.push((key.into(), to_value(value)?));
        Ok(())
    }
    fn end(self) -> Result<Value, Error> {
        SerializeMap::end(self)
    }
}

/// `{"Variant": inner}`.
struct VariantSer<S> {
    variant: &'static str,
    inner: S,
}

impl<S> VariantSer<S> {
    fn wrap(variant: &'static str, inner: Value) -> Value {
        js_object(vec![(variant.into(), inner)])
    }
}

impl SerializeTupleVariant for VariantSer<SeqSer> {
    type Ok = Value;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        SerializeSeq::serialize_element(&mut self.inner, value)
    }
    fn end(self) -> Result<Value, Error> {
        Ok(Self::wrap(self.variant, SerializeSeq::end(self.inner)?))
    }
}

impl SerializeStructVariant for VariantSer<MapSer> {
    type Ok = Value;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        SerializeStruct::serialize_field(&mut self.inner, key, value)
    }
    fn end(self) -> Result<Value, Error> {
        Ok(Self::wrap(self.variant, SerializeMap::end(self.inner)?))
    }
}

// ------------------------------------------------------------------------------ object keys

/// A map key as the text of a JavaScript property name.
struct KeySer;

fn key_error() -> Error {
    Error::Serialize("a map key must be a string, an integer, a char or a bool".into())
}

impl Serializer for KeySer {
    type Ok = String;
    type Error = Error;
    type SerializeSeq = Impossible<String, Error>;
    type SerializeTuple = Impossible<String, Error>;
    type SerializeTupleStruct = Impossible<String, Error>;
    type SerializeTupleVariant = Impossible<String, Error>;
    type SerializeMap = Impossible<String, Error>;
    type SerializeStruct = Impossible<String, Error>;
    type SerializeStructVariant = Impossible<String, Error>;

    fn serialize_bool(self, v: bool) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_i8(self, v: i8) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_i16(self, v: i16) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_i32(self, v: i32) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_i64(self, v: i64) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_i128(self, v: i128) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_u8(self, v: u8) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_u16(self, v: u16) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_u32(self, v: u32) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_u64(self, v: u64) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_u128(self, v: u128) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_f32(self, _v: f32) -> Result<String, Error> {
        Err(key_error())
    }
    fn serialize_f64(self, _v: f64) -> Result<String, Error> {
        Err(key_error())
    }
    fn serialize_char(self, v: char) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_str(self, v: &str) -> Result<String, Error> {
        Ok(v.to_owned())
    }
    fn serialize_bytes(self, _v: &[u8]) -> Result<String, Error> {
        Err(key_error())
    }
    fn serialize_none(self) -> Result<String, Error> {
        Err(key_error())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _value: &T) -> Result<String, Error> {
        Err(key_error())
    }
    fn serialize_unit(self) -> Result<String, Error> {
        Err(key_error())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<String, Error> {
        Err(key_error())
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<String, Error> {
        Ok(variant.to_owned())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<String, Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<String, Error> {
        Err(key_error())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, Error> {
        Err(key_error())
    }
    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, Error> {
        Err(key_error())
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, Error> {
        Err(key_error())
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        Err(key_error())
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, Error> {
        Err(key_error())
    }
    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStruct, Error> {
        Err(key_error())
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        Err(key_error())
    }
}

// ------------------------------------------------------------------------------ arguments

/// The argument list: `()` is none, a tuple its elements, any other value one argument.
struct ArgsSer;

/// A compound value that is one argument.
struct One<S>(S);

/// A tuple's elements, each an argument.
struct ArgsTuple(Vec<Value>);

impl SerializeTuple for ArgsTuple {
    type Ok = Vec<Value>;
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.0.push(to_value(value)?);
        Ok(())
    }
    fn end(self) -> Result<Vec<Value>, Error> {
        Ok(self.0)
    }
}

macro_rules! one_scalar {
    ($($method:ident($ty:ty)),* $(,)?) => {
        $(fn $method(self, v: $ty) -> Result<Vec<Value>, Error> {
            ValueSer.$method(v).map(|v| vec![v])
        })*
    };
}

impl Serializer for ArgsSer {
    type Ok = Vec<Value>;
    type Error = Error;
    type SerializeSeq = One<SeqSer>;
    type SerializeTuple = ArgsTuple;
    type SerializeTupleStruct = One<SeqSer>;
    type SerializeTupleVariant = One<VariantSer<SeqSer>>;
    type SerializeMap = One<MapSer>;
    type SerializeStruct = One<MapSer>;
    type SerializeStructVariant = One<VariantSer<MapSer>>;

    one_scalar!(
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_i128(i128),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_u128(u128),
        serialize_f32(f32),
        serialize_f64(f64),
        serialize_char(char),
        serialize_str(&str),
        serialize_bytes(&[u8]),
        serialize_unit_struct(&'static str),
    );

    fn serialize_none(self) -> Result<Vec<Value>, Error> {
        Ok(vec![Value::Nil])
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Vec<Value>, Error> {
        Ok(vec![to_value(value)?])
    }
    fn serialize_unit(self) -> Result<Vec<Value>, Error> {
        Ok(Vec::new())
    }
    fn serialize_unit_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
    ) -> Result<Vec<Value>, Error> {
        Ok(vec![ValueSer.serialize_unit_variant(name, index, variant)?])
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<Vec<Value>, Error> {
        Ok(vec![ValueSer.serialize_newtype_struct(name, value)?])
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Vec<Value>, Error> {
        Ok(vec![
            ValueSer.serialize_newtype_variant(name, index, variant, value)?
        ])
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<One<SeqSer>, Error> {
        ValueSer.serialize_seq(len).map(One)
    }
    fn serialize_tuple(self, len: usize) -> Result<ArgsTuple, Error> {
        Ok(ArgsTuple(Vec::with_capacity(len)))
    }
    fn serialize_tuple_struct(self, name: &'static str, len: usize) -> Result<One<SeqSer>, Error> {
        ValueSer.serialize_tuple_struct(name, len).map(One)
    }
    fn serialize_tuple_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<One<VariantSer<SeqSer>>, Error> {
        ValueSer
            .serialize_tuple_variant(name, index, variant, len)
            .map(One)
    }
    fn serialize_map(self, len: Option<usize>) -> Result<One<MapSer>, Error> {
        ValueSer.serialize_map(len).map(One)
    }
    fn serialize_struct(self, name: &'static str, len: usize) -> Result<One<MapSer>, Error> {
        ValueSer.serialize_struct(name, len).map(One)
    }
    fn serialize_struct_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<One<VariantSer<MapSer>>, Error> {
        ValueSer
            .serialize_struct_variant(name, index, variant, len)
            .map(One)
    }
}

impl<S: SerializeSeq<Ok = Value, Error = Error>> SerializeSeq for One<S> {
    type Ok = Vec<Value>;
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.0.serialize_element(value)
    }
    fn end(self) -> Result<Vec<Value>, Error> {
        Ok(vec![self.0.end()?])
    }
}

impl<S: SerializeTupleStruct<Ok = Value, Error = Error>> SerializeTupleStruct for One<S> {
    type Ok = Vec<Value>;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.0.serialize_field(value)
    }
    fn end(self) -> Result<Vec<Value>, Error> {
        Ok(vec![self.0.end()?])
    }
}

impl<S: SerializeTupleVariant<Ok = Value, Error = Error>> SerializeTupleVariant for One<S> {
    type Ok = Vec<Value>;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.0.serialize_field(value)
    }
    fn end(self) -> Result<Vec<Value>, Error> {
        Ok(vec![self.0.end()?])
    }
}

impl<S: SerializeMap<Ok = Value, Error = Error>> SerializeMap for One<S> {
    type Ok = Vec<Value>;
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        self.0.serialize_key(key)
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.0.serialize_value(value)
    }
    fn end(self) -> Result<Vec<Value>, Error> {
        Ok(vec![self.0.end()?])
    }
}

impl<S: SerializeStruct<Ok = Value, Error = Error>> SerializeStruct for One<S> {
    type Ok = Vec<Value>;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.0.serialize_field(key, value)
    }
    fn end(self) -> Result<Vec<Value>, Error> {
        Ok(vec![self.0.end()?])
    }
}

impl<S: SerializeStructVariant<Ok = Value, Error = Error>> SerializeStructVariant for One<S> {
    type Ok = Vec<Value>;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.0.serialize_field(key, value)
    }
    fn end(self) -> Result<Vec<Value>, Error> {
        Ok(vec![self.0.end()?])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;

    fn json(text: &str) -> Value {
        serde_json::from_str(text).unwrap()
    }

    #[derive(Serialize)]
    struct User {
        name: &'static str,
        age: u8,
        nick: Option<&'static str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        skipped: Option<u8>,
    }

    #[derive(Serialize)]
    enum Shape {
        Dot,
        Circle(f64),
        Rect(u8, u8),
        Named { w: u8 },
    }

    #[test]
    fn values_are_what_json_parse_makes_of_serde_json() {
        let user = User {
            name: "ann",
            age: 42,
            nick: None,
            skipped: None,
        };
        assert_eq!(
            to_value(&user).unwrap(),
            json(r#"{"name":"ann","age":42,"nick":null}"#)
        );
        assert_eq!(to_value(&Shape::Dot).unwrap(), json(r#""Dot""#));
        assert_eq!(
            to_value(&Shape::Circle(1.5)).unwrap(),
            json(r#"{"Circle":1.5}"#)
        );
        assert_eq!(
            to_value(&Shape::Rect(1, 2)).unwrap(),
            json(r#"{"Rect":[1,2]}"#)
        );
        assert_eq!(
            to_value(&Shape::Named { w: 3 }).unwrap(),
            json(r#"{"Named":{"w":3}}"#)
        );
        assert_eq!(to_value(&'x').unwrap(), Value::from("x"));
        assert_eq!(to_value(&()).unwrap(), Value::Nil);
        assert_eq!(to_value(&1.1f32).unwrap(), Value::F64(1.1));
        assert_eq!(to_value(&-3i128).unwrap(), Value::from(-3));
        assert_eq!(
            to_value(&(u64::MAX as u128)).unwrap(),
            Value::from(u64::MAX)
        );
        assert_eq!(to_value(&vec![1u8, 2]).unwrap(), json("[1,2]"));
        assert_eq!(
            to_value(&crate::emitter::Binary::from(vec![1, 2])).unwrap(),
            Value::Binary(vec![1, 2])
        );
    }

    #[test]
    fn object_keys_are_ordered_as_javascript_orders_them() {
        let map: Vec<(&str, u8)> = vec![("b", 1), ("10", 2), ("a", 3), ("2", 4), ("01", 5)];
        let value = to_value(&map.into_iter().collect::<indexmap_like::Ordered>()).unwrap();
        let keys: Vec<&str> = value
            .as_map()
            .unwrap()
            .iter()
            .map(|(k, _)| k.as_str().unwrap())
            .collect();
        assert_eq!(keys, ["2", "10", "b", "a", "01"]);

        // 2^32 - 1 is not an array index; 2^32 - 2 is.
        let map: Vec<(&str, u8)> = vec![("4294967295", 1), ("4294967294", 2), ("0", 3)];
        let value = to_value(&map.into_iter().collect::<indexmap_like::Ordered>()).unwrap();
        assert_eq!(value, json(r#"{"0":3,"4294967294":2,"4294967295":1}"#));

        let ints = std::collections::BTreeMap::from([(7u32, true), (3, false)]);
        assert_eq!(to_value(&ints).unwrap(), json(r#"{"3":false,"7":true}"#));
        let chars = std::collections::BTreeMap::from([('c', 1), ('a', 2)]);
        assert_eq!(to_value(&chars).unwrap(), json(r#"{"a":2,"c":1}"#));
    }

    #[test]
    fn a_repeated_key_keeps_its_first_place_and_its_last_value() {
        let value = js_object(vec![
            ("a".into(), Value::from(1)),
            ("b".into(), Value::from(2)),
            ("a".into(), Value::from(3)),
        ]);
        assert_eq!(value, json(r#"{"a":3,"b":2}"#));
    }

    #[test]
    fn keys_that_are_not_scalars_are_refused() {
        let map = std::collections::BTreeMap::from([((1, 2), 3)]);
        assert!(matches!(to_value(&map), Err(Error::Serialize(_))));
    }

    #[test]
    fn arguments_follow_the_emit_convention() {
        assert_eq!(to_args(&()).unwrap(), Vec::<Value>::new());
        assert_eq!(
            to_args(&(1, "a")).unwrap(),
            [Value::from(1), Value::from("a")]
        );
        assert_eq!(to_args(&(1,)).unwrap(), [Value::from(1)]);
        let args = crate::emitter::Args(vec!["a", "b"]);
        assert_eq!(
            to_args(&args).unwrap(),
            [Value::from("a"), Value::from("b")]
        );
        assert_eq!(to_args(&(args,)).unwrap(), [json(r#"["a","b"]"#)]);
        assert_eq!(to_args(&crate::emitter::Args::<u8>(vec![])).unwrap(), []);
        assert_eq!(to_args(&((1, 2),)).unwrap(), [json("[1,2]")]);
        // serde serializes a fixed-size array as a tuple: a slice or a Vec is one argument.
        assert_eq!(to_args(&[1, 2]).unwrap(), [Value::from(1), Value::from(2)]);
        assert_eq!(to_args(&[1, 2][..]).unwrap(), [json("[1,2]")]);
        assert_eq!(to_args(&vec![1, 2]).unwrap(), [json("[1,2]")]);
        assert_eq!(to_args("x").unwrap(), [Value::from("x")]);
        assert_eq!(to_args(&None::<u8>).unwrap(), [Value::Nil]);
        assert_eq!(to_args(&Some(2)).unwrap(), [Value::from(2)]);
        assert_eq!(to_args(&Shape::Dot).unwrap(), [Value::from("Dot")]);
        assert_eq!(
            to_args(&Shape::Rect(1, 2)).unwrap(),
            [json(r#"{"Rect":[1,2]}"#)]
        );
        assert_eq!(
            to_args(&std::collections::BTreeMap::from([("k", 1)])).unwrap(),
            [json(r#"{"k":1}"#)]
        );
        assert_eq!(
            to_args(&json(r#"{"k":[1,"x"]}"#)).unwrap(),
            [json(r#"{"k":[1,"x"]}"#)]
        );
    }

    #[test]
    fn an_rmpv_value_passes_through() {
        let value = Value::Array(vec![
            Value::Binary(vec![1]),
            Value::Ext(5, vec![9]),
            Value::from(-1),
        ]);
        assert_eq!(to_value(&value).unwrap(), value);
    }

    /// A map that keeps insertion order, for the key-order test.
    mod indexmap_like {
        use serde::ser::{Serialize, SerializeMap, Serializer};

        pub struct Ordered(Vec<(String, u8)>);

        impl<'a> FromIterator<(&'a str, u8)> for Ordered {
            fn from_iter<I: IntoIterator<Item = (&'a str, u8)>>(iter: I) -> Self {
                Ordered(iter.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
            }
        }

        impl Serialize for Ordered {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut map = s.serialize_map(Some(self.0.len()))?;
                for (k, v) in &self.0 {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}
