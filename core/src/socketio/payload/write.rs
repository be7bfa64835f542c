//! Writing packets: the JSON array of an EVENT / ACK serialized with
//! `serde_json` into a thread-local scratch buffer (binary values becoming
//! attachments and placeholders on the way), then head and array appended to
//! the output with [`sio::write_packet`] once the attachment count is known.

use std::cell::Cell;
use std::fmt;
use std::io;

use bytes::{Bytes, BytesMut};
use serde::ser::{Serialize, SerializeTuple, Serializer};

use super::binary::take_lent;
use crate::wire::sio::{self, PacketType};
use crate::wire::Decimal;

/// Spreads a slice into as many arguments (a tuple of dynamic length), e.g.
/// to forward a `Vec<serde_json::Value>` of arguments: `&Spread(&values)`.
/// (A `Vec` or a slice given directly is ONE argument.)
pub struct Spread<'a, T>(pub &'a [T]);

impl<T: fmt::Debug> fmt::Debug for Spread<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Spread").field(&self.0).finish()
    }
}

impl<T> Clone for Spread<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Spread<'_, T> {}

impl<T: Serialize> Serialize for Spread<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut tuple = serializer.serialize_tuple(self.0.len())?;
        for item in self.0 {
            tuple.serialize_element(item)?;
        }
        tuple.end()
    }
}

/// Writes the text of an EVENT (or BINARY_EVENT) packet to the end of `out`:
/// head `2[<nsp>,][<id>]` (or `5<N>-[<nsp>,][<id>]`) then
/// `["<event>",<args...>]`. Returns the attachments, in order (an empty `Vec`
/// when none: no allocation).
///
/// The argument convention: a tuple (`(a,)`, `(a, b)`, ...) spreads into
/// that many arguments; `()` means no argument; [`Args`](super::Args) and [`Spread`]
/// spread; any other value is ONE argument (including `Vec`, arrays,
/// structs, maps, strings, numbers, `serde_json::Value`, `&RawValue`).
///
/// The namespace is written only when it is neither `"/"` nor empty; it is
/// written verbatim (the caller guarantees it is a valid namespace).
///
/// On a serialization error, `out` is left as it was before the call.
pub fn write_event<T: Serialize + ?Sized>(
    out: &mut BytesMut,
    nsp: &str,
    id: Option<u64>,
    event: &str,
    args: &T,
) -> Result<Vec<Bytes>, serde_json::Error> {
    with_scratch(|json| {
        json.push(b'[');
        serde_json::to_writer(&mut *json, event)?;
        json.push(b',');
        let attachments = write_args(json, true, args)?;
        let kind = match attachments.len() {
            0 => PacketType::Event,
            _ => PacketType::BinaryEvent,
        };
        sio::write_packet(out, kind, nsp, attachments.len(), id, json);
        Ok(attachments)
    })
}

/// Writes the text of an ACK (or BINARY_ACK) packet to the end of `out`:
/// `3[<nsp>,]<id>[<args...>]` (or `6<N>-[<nsp>,]<id>[...]`). Returns the
/// attachments, in order (an empty `Vec` when none: no allocation).
///
/// Same argument convention and namespace rule as [`write_event`]. On a
/// serialization error, `out` is left as it was before the call.
pub fn write_ack<T: Serialize + ?Sized>(
    out: &mut BytesMut,
    nsp: &str,
    id: u64,
    args: &T,
) -> Result<Vec<Bytes>, serde_json::Error> {
    with_scratch(|json| {
        json.push(b'[');
        let attachments = write_args(json, false, args)?;
        let kind = match attachments.len() {
            0 => PacketType::Ack,
            _ => PacketType::BinaryAck,
        };
        sio::write_packet(out, kind, nsp, attachments.len(), Some(id), json);
        Ok(attachments)
    })
}

/// Scratch buffers are shrunk to this capacity before being kept for the
/// next packet.
pub(super) const SCRATCH_RETAINED: usize = 64 * 1024;

thread_local! {
    /// Where the JSON of a packet is serialized before its head is known (the head
    /// depends on the number of attachments found while serializing).
    pub(super) static SCRATCH: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

/// Runs `f` with this thread's (empty) scratch buffer.
///
/// The buffer is taken out of its slot for the duration: a nested call (from
/// a `Serialize` impl) finds the slot empty and uses a fresh buffer, and a
/// panic merely loses the buffer.
/// The arguments as a JSON array value, as listeners of outgoing events see them (binary
/// values as their placeholders); `null` when they do not serialize.
pub(crate) fn args_value<T: Serialize + ?Sized>(args: &T) -> serde_json::Value {
    with_scratch(|json| {
        json.push(b'[');
        write_args(json, false, args)?;
        serde_json::from_slice(json)
    })
    .unwrap_or_default()
}

fn with_scratch<R>(f: impl FnOnce(&mut Vec<u8>) -> R) -> R {
    let mut scratch = SCRATCH.try_with(Cell::take).unwrap_or_default();
    scratch.clear();
    let result = f(&mut scratch);
    if scratch.capacity() > SCRATCH_RETAINED {
        scratch.clear();
        scratch.shrink_to(SCRATCH_RETAINED);
    }
    let _ = SCRATCH.try_with(|c| c.set(scratch));
    result
}

/// Serializes the arguments after what is already in `json` (ending with
/// `["ev",` for an event, `[` for an ack) and closes the array. Returns the
/// attachments. On error, `json` holds garbage.
fn write_args<T: Serialize + ?Sized>(
    json: &mut Vec<u8>,
    event: bool,
    args: &T,
) -> Result<Vec<Bytes>, serde_json::Error> {
    let body = json.len();
    let mut attachments = Vec::new();
    let skip_open = Cell::new(false);
    let mut spread = false;
    {
        let formatter = PacketFormatter {
            attachments: &mut attachments,
            skip_open: &skip_open,
        };
        let mut ser = serde_json::Serializer::with_formatter(&mut *json, formatter);
        args.serialize(TopLevel {
            ser: &mut ser,
            skip_open: &skip_open,
            spread: &mut spread,
            shape: Shape::of::<T>(),
        })?;
    }
    if spread {
        // The tuple closed the array itself. An empty one left `["ev",]`:
        // drop the comma after the event name (at `body - 1`).
        if event && json.len() == body + 1 {
            json.truncate(body - 1);
            json.push(b']');
        }
    } else {
        // Nothing written (`()`): no argument, so drop the comma after the
        // event name.
        if event && json.len() == body {
            json.truncate(body - 1);
        }
        json.push(b']');
    }
    Ok(attachments)
}

pub(super) use crate::wire::sio::ArgsShape as Shape;

/// serde_json's compact format, plus: bytes become attachments written as
/// placeholders, and the `[` of the top-level tuple can be skipped (its
/// elements continue the array the packet writer opened).
struct PacketFormatter<'a> {
    attachments: &'a mut Vec<Bytes>,
    skip_open: &'a Cell<bool>,
}

impl serde_json::ser::Formatter for PacketFormatter<'_> {
    #[inline]
    fn begin_array<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        if self.skip_open.take() {
            Ok(())
        } else {
            writer.write_all(b"[")
        }
    }

    fn write_byte_array<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        value: &[u8],
    ) -> io::Result<()> {
        let bytes = take_lent(value).unwrap_or_else(|| Bytes::copy_from_slice(value));
        let num = Decimal::new(self.attachments.len() as u64);
        self.attachments.push(bytes);
        writer.write_all(b"{\"_placeholder\":true,\"num\":")?;
        writer.write_all(num.as_bytes())?;
        writer.write_all(b"}")
    }
}

type JsonSer<'o, 'f> = serde_json::Serializer<&'o mut Vec<u8>, PacketFormatter<'f>>;
type Inner<'s, 'o, 'f> = &'s mut JsonSer<'o, 'f>;

/// The serializer of the top-level argument value: forwards everything to
/// serde_json, except that a tuple spreads (its `[` is skipped) and `()`
/// writes nothing.
struct TopLevel<'s, 'o, 'f> {
    ser: Inner<'s, 'o, 'f>,
    skip_open: &'s Cell<bool>,
    /// Set when the value spread as a tuple.
    spread: &'s mut bool,
    shape: Shape,
}

macro_rules! forward {
    ($($method:ident($($arg:ident: $ty:ty),*);)*) => {$(
        #[inline]
        fn $method(self, $($arg: $ty),*) -> Result<(), serde_json::Error> {
            self.ser.$method($($arg),*)
        }
    )*};
}

impl<'s, 'o, 'f> Serializer for TopLevel<'s, 'o, 'f> {
    type Ok = ();
    type Error = serde_json::Error;
    type SerializeSeq = <Inner<'s, 'o, 'f> as Serializer>::SerializeSeq;
    type SerializeTuple = <Inner<'s, 'o, 'f> as Serializer>::SerializeTuple;
    type SerializeTupleStruct = <Inner<'s, 'o, 'f> as Serializer>::SerializeTupleStruct;
    type SerializeTupleVariant = <Inner<'s, 'o, 'f> as Serializer>::SerializeTupleVariant;
    type SerializeMap = <Inner<'s, 'o, 'f> as Serializer>::SerializeMap;
    type SerializeStruct = <Inner<'s, 'o, 'f> as Serializer>::SerializeStruct;
    type SerializeStructVariant = <Inner<'s, 'o, 'f> as Serializer>::SerializeStructVariant;

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

    #[inline]
    fn serialize_unit(self) -> Result<(), serde_json::Error> {
        if self.shape == Shape::Unit {
            // No argument: nothing to write.
            Ok(())
        } else {
            self.ser.serialize_unit()
        }
    }

    #[inline]
    fn serialize_tuple(self, len: usize) -> Result<Self::SerializeTuple, serde_json::Error> {
        if self.shape != Shape::Array {
            *self.spread = true;
            self.skip_open.set(true);
        }
        self.ser.serialize_tuple(len)
    }

    #[inline]
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), serde_json::Error> {
        self.ser.serialize_some(value)
    }

    #[inline]
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<(), serde_json::Error> {
        self.ser.serialize_newtype_struct(name, value)
    }

    #[inline]
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), serde_json::Error> {
        self.ser
            .serialize_newtype_variant(name, index, variant, value)
    }

    #[inline]
    fn serialize_seq(self, len: Option<usize>) -> Result<Self::SerializeSeq, serde_json::Error> {
        self.ser.serialize_seq(len)
    }

    #[inline]
    fn serialize_tuple_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleStruct, serde_json::Error> {
        self.ser.serialize_tuple_struct(name, len)
    }

    #[inline]
    fn serialize_tuple_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleVariant, serde_json::Error> {
        self.ser.serialize_tuple_variant(name, index, variant, len)
    }

    #[inline]
    fn serialize_map(self, len: Option<usize>) -> Result<Self::SerializeMap, serde_json::Error> {
        self.ser.serialize_map(len)
    }

    #[inline]
    fn serialize_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStruct, serde_json::Error> {
        self.ser.serialize_struct(name, len)
    }

    #[inline]
    fn serialize_struct_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStructVariant, serde_json::Error> {
        self.ser.serialize_struct_variant(name, index, variant, len)
    }

    #[inline]
    fn collect_str<T: fmt::Display + ?Sized>(self, value: &T) -> Result<(), serde_json::Error> {
        self.ser.collect_str(value)
    }

    #[inline]
    fn is_human_readable(&self) -> bool {
        true
    }
}
