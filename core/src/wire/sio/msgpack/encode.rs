//! Writing: the server's packets, from serde values to their final bytes in one pass (see
//! the [module docs](super)).

use bytes::{BufMut, BytesMut};
use serde::ser::{self, Serialize, Serializer};

use super::key::KeySer;
use crate::wire::sio::ArgsShape;

type Error = serde_json::Error;

/// Writes an EVENT `{type: 2, data: [event, ...args], [id,] nsp}` to the end of `out`, in
/// the member order of socket.io's `Socket#emit` (the id, when there is one, before the
/// namespace). Binary values (`serialize_bytes`) are written as msgpack bin.
///
/// The arguments follow the convention of [`write_event`](crate::payload::write_event): a
/// tuple spreads into that many arguments, `()` is none, [`Args`](crate::payload::Args)
/// and [`Spread`](crate::payload::Spread) spread, anything else is ONE argument.
///
/// On a serialization error, `out` is left as it was before the call.
pub fn write_event<T: Serialize + ?Sized>(
    out: &mut BytesMut,
    nsp: &str,
    id: Option<u64>,
    event: &str,
    args: &T,
) -> Result<(), Error> {
    let start = out.len();
    put_map_len(out, 3 + usize::from(id.is_some()));
    put_str(out, "type");
    put_uint(out, 2);
    put_str(out, "data");
    let array = out.len();
    put_array_len(out, 1);
    put_str(out, event);
    let n = write_args(out, start, args)?;
    fix_header(out, array, Container::Array, 1, 1 + n);
    if let Some(id) = id {
        put_str(out, "id");
        put_uint(out, id);
    }
    put_str(out, "nsp");
    put_str(out, nsp);
    Ok(())
}

/// Writes an ACK `{id, type: 3, data: [...args], nsp}` to the end of `out`, in the member
/// order of socket.io's `Socket#ack`. Same argument convention as [`write_event`]; on a
/// serialization error, `out` is left as it was.
pub fn write_ack<T: Serialize + ?Sized>(
    out: &mut BytesMut,
    nsp: &str,
    id: u64,
    args: &T,
) -> Result<(), Error> {
    let start = out.len();
    put_map_len(out, 4);
    put_str(out, "id");
    put_uint(out, id);
    put_str(out, "type");
    put_uint(out, 3);
    put_str(out, "data");
    let array = out.len();
    put_array_len(out, 0);
    let n = write_args(out, start, args)?;
    fix_header(out, array, Container::Array, 0, n);
    put_str(out, "nsp");
    put_str(out, nsp);
    Ok(())
}

/// Writes the CONNECT answer `{type: 0, data: {sid[, pid]}, nsp}`.
///
/// Node writes `pid: undefined` (fixext 1 of type 0) when connection state recovery is
/// off; this writes no `pid` member then (a JavaScript client reads both the same way).
pub fn write_connect(out: &mut BytesMut, nsp: &str, sid: &str, pid: Option<&str>) {
    put_map_len(out, 3);
    put_str(out, "type");
    put_uint(out, 0);
    put_str(out, "data");
    put_map_len(out, 1 + usize::from(pid.is_some()));
    put_str(out, "sid");
    put_str(out, sid);
    if let Some(pid) = pid {
        put_str(out, "pid");
        put_str(out, pid);
    }
    put_str(out, "nsp");
    put_str(out, nsp);
}

/// Writes a CONNECT_ERROR `{type: 4, data: {message[, data]}, nsp}`; `data` is any
/// `Serialize` value (a `&RawValue` of JSON text included). Node writes `data: undefined`
/// when there is none; this writes no `data` member then. On a serialization error, `out`
/// is left as it was.
pub fn write_connect_error<T: Serialize + ?Sized>(
    out: &mut BytesMut,
    nsp: &str,
    message: &str,
    data: Option<&T>,
) -> Result<(), Error> {
    let start = out.len();
    put_map_len(out, 3);
    put_str(out, "type");
    put_uint(out, 4);
    put_str(out, "data");
    put_map_len(out, 1 + usize::from(data.is_some()));
    put_str(out, "message");
    put_str(out, message);
    if let Some(data) = data {
        put_str(out, "data");
        if let Err(e) = data.serialize(&mut Ser { out }) {
            out.truncate(start);
            return Err(e);
        }
    }
    put_str(out, "nsp");
    put_str(out, nsp);
    Ok(())
}

/// Writes a DISCONNECT `{type: 1, nsp}`.
pub fn write_disconnect(out: &mut BytesMut, nsp: &str) {
    put_map_len(out, 2);
    put_str(out, "type");
    put_uint(out, 1);
    put_str(out, "nsp");
    put_str(out, nsp);
}

/// Writes `packet`, which a writer of this module wrote for namespace `from`, headed for
/// namespace `to` instead (a broadcast to a dynamic namespace is encoded once for its
/// name, then renamed for each child). Every writer puts the namespace last, so this
/// copies all but the last member. Writes nothing and answers `false` when `packet` does
/// not end with the namespace `from`.
pub fn write_renamed(out: &mut BytesMut, packet: &[u8], from: &str, to: &str) -> bool {
    let mut tail = BytesMut::with_capacity(from.len() + 9);
    put_str(&mut tail, "nsp");
    put_str(&mut tail, from);
    let Some(head) = packet.strip_suffix(&tail[..]) else {
        return false;
    };
    out.reserve(head.len() + to.len() + 9);
    out.extend_from_slice(head);
    put_str(out, "nsp");
    put_str(out, to);
    true
}

/// Serializes the arguments after what `out` holds, and answers their number. On error,
/// truncates `out` to `start`.
fn write_args<T: Serialize + ?Sized>(
    out: &mut BytesMut,
    start: usize,
    args: &T,
) -> Result<usize, Error> {
    let mut count = 1;
    let result = args.serialize(TopLevel {
        ser: &mut Ser { out: &mut *out },
        count: &mut count,
        shape: ArgsShape::of::<T>(),
    });
    match result {
        Ok(()) => Ok(count),
        Err(e) => {
            out.truncate(start);
            Err(e)
        }
    }
}

// The msgpack forms notepack.io writes: the smallest of each family.

fn put_uint(out: &mut BytesMut, n: u64) {
    match n {
        0..=0x7f => out.put_u8(n as u8),
        0x80..=0xff => out.put_slice(&[0xcc, n as u8]),
        0x100..=0xffff => {
            out.put_u8(0xcd);
            out.put_u16(n as u16);
        }
        0x1_0000..=0xffff_ffff => {
            out.put_u8(0xce);
            out.put_u32(n as u32);
        }
        _ => {
            out.put_u8(0xcf);
            out.put_u64(n);
        }
    }
}

fn put_int(out: &mut BytesMut, n: i64) {
    match n {
        0.. => put_uint(out, n as u64),
        -0x20..=-1 => out.put_i8(n as i8),
        -0x80..=-0x21 => out.put_slice(&[0xd0, n as u8]),
        -0x8000..=-0x81 => {
            out.put_u8(0xd1);
            out.put_i16(n as i16);
        }
        -0x8000_0000..=-0x8001 => {
            out.put_u8(0xd2);
            out.put_i32(n as i32);
        }
        _ => {
            out.put_u8(0xd3);
            out.put_i64(n);
        }
    }
}

/// A number as notepack writes a JavaScript number: integral values as integers, others
/// (and integral values past the 64-bit ranges, which notepack would garble) as float 64.
fn put_f64(out: &mut BytesMut, f: f64) {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if f.is_finite() && f.fract() == 0.0 {
        if (0.0..2.0 * TWO_63).contains(&f) || f == 0.0 {
            return put_uint(out, f as u64);
        }
        if (-TWO_63..0.0).contains(&f) {
            return put_int(out, f as i64);
        }
    }
    out.put_u8(0xcb);
    out.put_f64(f);
}

pub(super) fn put_str(out: &mut BytesMut, s: &str) {
    let n = s.len();
    match n {
        0..=0x1f => out.put_u8(0xa0 | n as u8),
        0x20..=0xff => out.put_slice(&[0xd9, n as u8]),
        0x100..=0xffff => {
            out.put_u8(0xda);
            out.put_u16(n as u16);
        }
        _ => {
            out.put_u8(0xdb);
            out.put_u32(n as u32);
        }
    }
    out.put_slice(s.as_bytes());
}

fn put_bin(out: &mut BytesMut, b: &[u8]) {
    let n = b.len();
    match n {
        0..=0xff => out.put_slice(&[0xc4, n as u8]),
        0x100..=0xffff => {
            out.put_u8(0xc5);
            out.put_u16(n as u16);
        }
        _ => {
            out.put_u8(0xc6);
            out.put_u32(n as u32);
        }
    }
    out.put_slice(b);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Container {
    Array,
    Map,
}

fn header(kind: Container, n: usize) -> ([u8; 5], usize) {
    let (fix, c16, c32) = match kind {
        Container::Array => (0x90, 0xdc, 0xdd),
        Container::Map => (0x80, 0xde, 0xdf),
    };
    let mut h = [0; 5];
    let len = match n {
        0..=0xf => {
            h[0] = fix | n as u8;
            1
        }
        0x10..=0xffff => {
            h[0] = c16;
            h[1..3].copy_from_slice(&(n as u16).to_be_bytes());
            3
        }
        _ => {
            h[0] = c32;
            h[1..5].copy_from_slice(&(n as u32).to_be_bytes());
            5
        }
    };
    (h, len)
}

fn put_array_len(out: &mut BytesMut, n: usize) {
    let (h, len) = header(Container::Array, n);
    out.put_slice(&h[..len]);
}

fn put_map_len(out: &mut BytesMut, n: usize) {
    let (h, len) = header(Container::Map, n);
    out.put_slice(&h[..len]);
}

/// Rewrites the header at `at`, written for `announced` elements, for `actual` ones,
/// moving what follows when the header changes size (a sequence of unknown length, a
/// map whose serializer announced a wrong length, 16 arguments or more).
fn fix_header(out: &mut BytesMut, at: usize, kind: Container, announced: usize, actual: usize) {
    if announced == actual {
        return;
    }
    let (_, old) = header(kind, announced);
    let (h, new) = header(kind, actual);
    let end = out.len();
    if new > old {
        out.resize(end + new - old, 0);
        out.copy_within(at + old..end, at + new);
    } else if new < old {
        out.copy_within(at + old..end, at + new);
        out.truncate(end - (old - new));
    }
    out[at..at + new].copy_from_slice(&h[..new]);
}

/// The msgpack serializer: JSON's data model written as msgpack, as notepack writes the
/// JavaScript value `JSON.parse` would give for serde_json's output (enums externally
/// tagged, `None` and `()` as nil, map keys as strings), except that bytes are bin.
struct Ser<'o> {
    out: &'o mut BytesMut,
}

/// What a compound value is writing.
enum Mode {
    /// A msgpack array or map, whose header is at `at`.
    Container {
        kind: Container,
        at: usize,
        announced: usize,
    },
    /// The top-level tuple of the arguments: its elements go into the packet's array.
    Spread,
    /// A `serde_json::value::RawValue`: its JSON text is written as msgpack.
    Raw,
}

struct Compound<'s, 'o> {
    ser: &'s mut Ser<'o>,
    mode: Mode,
    count: usize,
    /// Where [`TopLevel`] wants the number of spread arguments.
    spread_count: Option<&'s mut usize>,
}

const RAW_VALUE_TOKEN: &str = "$serde_json::private::RawValue";

impl<'o> Ser<'o> {
    fn open(&mut self, kind: Container, len: Option<usize>) -> Compound<'_, 'o> {
        let at = self.out.len();
        let announced = len.unwrap_or(0);
        let (h, n) = header(kind, announced);
        self.out.put_slice(&h[..n]);
        Compound {
            ser: self,
            mode: Mode::Container {
                kind,
                at,
                announced,
            },
            count: 0,
            spread_count: None,
        }
    }

    /// `{variant: ...}`: the map around an enum variant's content.
    fn variant(&mut self, variant: &str) {
        put_map_len(self.out, 1);
        put_str(self.out, variant);
    }
}

impl<'s, 'o> Serializer for &'s mut Ser<'o> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Compound<'s, 'o>;
    type SerializeTuple = Compound<'s, 'o>;
    type SerializeTupleStruct = Compound<'s, 'o>;
    type SerializeTupleVariant = Compound<'s, 'o>;
    type SerializeMap = Compound<'s, 'o>;
    type SerializeStruct = Compound<'s, 'o>;
    type SerializeStructVariant = Compound<'s, 'o>;

    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        self.out.put_u8(if v { 0xc3 } else { 0xc2 });
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> Result<(), Error> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i16(self, v: i16) -> Result<(), Error> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i32(self, v: i32) -> Result<(), Error> {
        self.serialize_i64(i64::from(v))
    }
    fn serialize_i64(self, v: i64) -> Result<(), Error> {
        put_int(self.out, v);
        Ok(())
    }
    fn serialize_i128(self, v: i128) -> Result<(), Error> {
        if let Ok(v) = i64::try_from(v) {
            self.serialize_i64(v)
        } else if let Ok(v) = u64::try_from(v) {
            self.serialize_u64(v)
        } else {
            Err(ser::Error::custom("integer out of the range of msgpack"))
        }
    }
    fn serialize_u8(self, v: u8) -> Result<(), Error> {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u16(self, v: u16) -> Result<(), Error> {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u32(self, v: u32) -> Result<(), Error> {
        self.serialize_u64(u64::from(v))
    }
    fn serialize_u64(self, v: u64) -> Result<(), Error> {
        put_uint(self.out, v);
        Ok(())
    }
    fn serialize_u128(self, v: u128) -> Result<(), Error> {
        match u64::try_from(v) {
            Ok(v) => self.serialize_u64(v),
            Err(_) => Err(ser::Error::custom("integer out of the range of msgpack")),
        }
    }
    fn serialize_f32(self, v: f32) -> Result<(), Error> {
        self.serialize_f64(f64::from(v))
    }
    fn serialize_f64(self, v: f64) -> Result<(), Error> {
        put_f64(self.out, v);
        Ok(())
    }
    fn serialize_char(self, v: char) -> Result<(), Error> {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_str(self, v: &str) -> Result<(), Error> {
        put_str(self.out, v);
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<(), Error> {
        put_bin(self.out, v);
        Ok(())
    }
    fn serialize_none(self) -> Result<(), Error> {
        self.serialize_unit()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Error> {
        self.out.put_u8(0xc0);
        Ok(())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Error> {
        self.serialize_unit()
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), Error> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.variant(variant);
        value.serialize(self)
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Compound<'s, 'o>, Error> {
        Ok(self.open(Container::Array, len))
    }
    fn serialize_tuple(self, len: usize) -> Result<Compound<'s, 'o>, Error> {
        Ok(self.open(Container::Array, Some(len)))
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<Compound<'s, 'o>, Error> {
        Ok(self.open(Container::Array, Some(len)))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Compound<'s, 'o>, Error> {
        self.variant(variant);
        Ok(self.open(Container::Array, Some(len)))
    }
    fn serialize_map(self, len: Option<usize>) -> Result<Compound<'s, 'o>, Error> {
        Ok(self.open(Container::Map, len))
    }
    fn serialize_struct(self, name: &'static str, len: usize) -> Result<Compound<'s, 'o>, Error> {
        if name == RAW_VALUE_TOKEN {
            return Ok(Compound {
                ser: self,
                mode: Mode::Raw,
                count: 0,
                spread_count: None,
            });
        }
        Ok(self.open(Container::Map, Some(len)))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Compound<'s, 'o>, Error> {
        self.variant(variant);
        Ok(self.open(Container::Map, Some(len)))
    }
    fn is_human_readable(&self) -> bool {
        // As with JSON: a type with two forms (a UUID, an address, a date) takes its
        // textual one, which is what a JavaScript peer of the JSON parser gets too.
        true
    }
}

impl Compound<'_, '_> {
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.count += 1;
        value.serialize(&mut *self.ser)
    }

    fn finish(self) -> Result<(), Error> {
        match self.mode {
            Mode::Container {
                kind,
                at,
                announced,
            } => fix_header(self.ser.out, at, kind, announced, self.count),
            Mode::Spread => {
                if let Some(count) = self.spread_count {
                    *count = self.count;
                }
            }
            Mode::Raw => {}
        }
        Ok(())
    }

    fn key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        self.count += 1;
        key.serialize(KeySer {
            out: &mut *self.ser.out,
        })
    }
}

impl ser::SerializeSeq for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.element(value)
    }
    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

impl ser::SerializeTuple for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.element(value)
    }
    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

impl ser::SerializeTupleStruct for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.element(value)
    }
    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

impl ser::SerializeTupleVariant for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.element(value)
    }
    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

impl ser::SerializeMap for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        self.key(key)
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        value.serialize(&mut *self.ser)
    }
    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

impl ser::SerializeStruct for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        if let Mode::Raw = self.mode {
            // The one field of a RawValue is its JSON text.
            let serde_json::Value::String(text) = serde_json::to_value(value)? else {
                return Err(ser::Error::custom("a RawValue without its text"));
            };
            let value: serde_json::Value = serde_json::from_str(&text)?;
            return value.serialize(&mut *self.ser);
        }
        self.key(key)?;
        value.serialize(&mut *self.ser)
    }
    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

impl ser::SerializeStructVariant for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.key(key)?;
        value.serialize(&mut *self.ser)
    }
    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

/// The serializer of the top-level argument value: a tuple spreads into the packet's
/// array, `()` writes nothing, anything else is one argument (see [`ArgsShape`]).
struct TopLevel<'s, 'o> {
    ser: &'s mut Ser<'o>,
    /// The number of arguments written (1 unless the value spread or was `()`).
    count: &'s mut usize,
    shape: ArgsShape,
}

macro_rules! forward {
    ($($method:ident($($arg:ident: $ty:ty),*);)*) => {$(
        fn $method(self, $($arg: $ty),*) -> Result<(), Error> {
            self.ser.$method($($arg),*)
        }
    )*};
}

impl<'s, 'o> Serializer for TopLevel<'s, 'o> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Compound<'s, 'o>;
    type SerializeTuple = Compound<'s, 'o>;
    type SerializeTupleStruct = Compound<'s, 'o>;
    type SerializeTupleVariant = Compound<'s, 'o>;
    type SerializeMap = Compound<'s, 'o>;
    type SerializeStruct = Compound<'s, 'o>;
    type SerializeStructVariant = Compound<'s, 'o>;

    forward! {
        serialize_bool(v: bool);
        serialize_i8(v: i8);
        serialize_i16(v: i16);
        serialize_i32(v: i32);
        serialize_i64(v: i64);
        serialize_i128(v: i128);
        serialize_u8(v: u8);
        serialize_u16(v: u16);
        serialize_u32(v: u32);
        serialize_u64(v: u64);
        serialize_u128(v: u128);
        serialize_f32(v: f32);
        serialize_f64(v: f64);
        serialize_char(v: char);
        serialize_str(v: &str);
        serialize_bytes(v: &[u8]);
        serialize_none();
        serialize_unit_struct(name: &'static str);
        serialize_unit_variant(name: &'static str, index: u32, variant: &'static str);
    }

    fn serialize_unit(self) -> Result<(), Error> {
        if self.shape == ArgsShape::Unit {
            *self.count = 0;
            Ok(())
        } else {
            self.ser.serialize_unit()
        }
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        self.ser.serialize_some(value)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.ser.serialize_newtype_struct(name, value)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.ser
            .serialize_newtype_variant(name, index, variant, value)
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Compound<'s, 'o>, Error> {
        self.ser.serialize_seq(len)
    }
    fn serialize_tuple(self, len: usize) -> Result<Compound<'s, 'o>, Error> {
        if self.shape == ArgsShape::Array {
            return self.ser.serialize_tuple(len);
        }
        Ok(Compound {
            ser: self.ser,
            mode: Mode::Spread,
            count: 0,
            spread_count: Some(self.count),
        })
    }
    fn serialize_tuple_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Compound<'s, 'o>, Error> {
        self.ser.serialize_tuple_struct(name, len)
    }
    fn serialize_tuple_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Compound<'s, 'o>, Error> {
        self.ser.serialize_tuple_variant(name, index, variant, len)
    }
    fn serialize_map(self, len: Option<usize>) -> Result<Compound<'s, 'o>, Error> {
        self.ser.serialize_map(len)
    }
    fn serialize_struct(self, name: &'static str, len: usize) -> Result<Compound<'s, 'o>, Error> {
        self.ser.serialize_struct(name, len)
    }
    fn serialize_struct_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Compound<'s, 'o>, Error> {
        self.ser.serialize_struct_variant(name, index, variant, len)
    }
    fn is_human_readable(&self) -> bool {
        true
    }
}
