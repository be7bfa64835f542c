//! Event and acknowledgement arguments: between Rust values (serde) and
//! Socket.IO packets, binary attachments included.
//!
//! # Writing
//!
//! [`write_event`] and [`write_ack`] append the text of one EVENT / ACK packet
//! (head and JSON array) to a buffer. The arguments are given as one
//! `Serialize` value, with this convention:
//!
//! * a tuple (`(a,)`, `(a, b)`, ...) spreads into that many arguments;
//! * `()` means no argument;
//! * an [`Args`] or a [`Spread`] spreads into its elements;
//! * any other value is ONE argument: `Vec`, arrays `[T; N]`, slices, structs,
//!   maps, strings, numbers, `Option`, `serde_json::Value`, `&RawValue`...
//!
//! A [`Binary`] anywhere inside the arguments (and, more generally, any value
//! serialized with `Serializer::serialize_bytes`, such as `serde_bytes`'
//! types) turns the packet into a BINARY_EVENT / BINARY_ACK: it is written as
//! the placeholder `{"_placeholder":true,"num":K}` and its bytes are returned
//! as attachment `K`, to be sent after the packet text.
//!
//! # Reading
//!
//! [`Args`] holds the JSON array text of a received packet without copying
//! it, plus its attachments. Arguments are deserialized on demand
//! ([`Args::parse`], [`Args::arg`]), and placeholders deserialize into
//! [`Binary`] values resolved against the attachments. Received arguments
//! can be emitted again as they are (an `Args` is `Serialize`), binary
//! included.

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;
use std::io;
use std::marker::PhantomData;
use std::sync::{Arc, OnceLock};

use bytes::{Bytes, BytesMut};
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor,
};
use serde::ser::{self, Serialize, SerializeMap, SerializeSeq, SerializeTuple, Serializer};
use serde_json::value::RawValue;
use smallvec::SmallVec;

use crate::wire::json::Elements;
use crate::wire::sio::{self, PacketType};
use crate::wire::Decimal;

// ---------------------------------------------------------------------------
// Thread-local hand-offs between serde impls and the packet writer/reader.
// ---------------------------------------------------------------------------

thread_local! {
    /// The `Bytes` handle of the [`Binary`] being serialized, lent to the
    /// packet formatter so that it can keep the attachment without copying.
    static LENT: Cell<Option<Bytes>> = const { Cell::new(None) };

    /// The attachments of the [`Args`] being parsed on this thread, if any.
    static DECODE: Cell<Option<Arc<[Bytes]>>> = const { Cell::new(None) };
}

/// Takes the lent handle if it designates exactly `value`.
///
/// Pointer and length equality is enough: the lent `Bytes` keeps its memory
/// alive and immutable, so any slice at the same place with the same length
/// has the same content (even if the handle is a stale one left by a panic).
fn take_lent(value: &[u8]) -> Option<Bytes> {
    let lent = LENT.try_with(Cell::take).ok().flatten()?;
    (lent.as_ptr() == value.as_ptr() && lent.len() == value.len()).then_some(lent)
}

/// Makes the attachments of one [`Args`] visible to `Binary::deserialize` for
/// the lifetime of the guard; restores the previous ones on drop (also on
/// unwind), so nested parses and panicking user code cannot leak them.
struct DecodeScope {
    previous: Option<Arc<[Bytes]>>,
}

impl DecodeScope {
    fn enter(attachments: Option<Arc<[Bytes]>>) -> Self {
        let previous = DECODE.try_with(|c| c.replace(attachments)).ok().flatten();
        Self { previous }
    }
}

impl Drop for DecodeScope {
    fn drop(&mut self) {
        let previous = self.previous.take();
        let _ = DECODE.try_with(|c| c.set(previous));
    }
}

/// Looks attachment `num` up in the current [`DecodeScope`].
fn resolve_attachment(num: u64) -> Result<Bytes, String> {
    let found = DECODE
        .try_with(|c| {
            let attachments = c.take();
            let found = attachments.as_deref().map(|a| {
                let item = usize::try_from(num).ok().and_then(|i| a.get(i)).cloned();
                (item, a.len())
            });
            c.set(attachments);
            found
        })
        .ok()
        .flatten();
    match found {
        Some((Some(bytes), _)) => Ok(bytes),
        Some((None, len)) => Err(format!(
            "binary placeholder refers to attachment {num}, but the packet has {len}"
        )),
        None => Err(format!(
            "binary placeholder refers to attachment {num}, but no attachment is available"
        )),
    }
}

// ---------------------------------------------------------------------------
// Binary
// ---------------------------------------------------------------------------

/// A binary argument (or a binary value nested anywhere inside an argument).
///
/// Serialize: inside [`write_event`] / [`write_ack`], registers the bytes as
/// the next attachment of the packet being written (without copying them)
/// and writes the placeholder object `{"_placeholder":true,"num":K}`. With any
/// other serializer it is serialized with `serialize_bytes`, which plain
/// `serde_json` writes as an array of byte numbers (`[1,2,3]`).
///
/// Deserialize: from a placeholder object, looking up the attachment of the
/// [`Args`] being parsed ([`Args::parse`], [`Args::arg`]); an error when
/// there is no such attachment (or outside of these calls). Also accepts
/// what the fallback serialization produces (an array of byte numbers) and
/// native bytes of non-JSON formats.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Binary(pub Bytes);

impl From<Bytes> for Binary {
    fn from(bytes: Bytes) -> Self {
        Self(bytes)
    }
}

impl From<Vec<u8>> for Binary {
    fn from(bytes: Vec<u8>) -> Self {
        Self(bytes.into())
    }
}

impl From<&'static [u8]> for Binary {
    fn from(bytes: &'static [u8]) -> Self {
        Self(Bytes::from_static(bytes))
    }
}

impl From<Binary> for Bytes {
    fn from(binary: Binary) -> Self {
        binary.0
    }
}

impl AsRef<[u8]> for Binary {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl Serialize for Binary {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_binary(&self.0, serializer)
    }
}

/// Serializes `bytes` as bytes, lending the handle to the packet formatter.
fn serialize_binary<S: Serializer>(bytes: &Bytes, serializer: S) -> Result<S::Ok, S::Error> {
    let _ = LENT.try_with(|c| c.set(Some(bytes.clone())));
    let result = serializer.serialize_bytes(bytes);
    // Not taken when the serializer is not a packet writer's.
    let _ = LENT.try_with(Cell::take);
    result
}

impl<'de> de::Deserialize<'de> for Binary {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        if deserializer.is_human_readable() {
            deserializer.deserialize_any(BinaryVisitor)
        } else {
            deserializer.deserialize_byte_buf(BinaryVisitor)
        }
    }
}

struct BinaryVisitor;

/// Keys of a placeholder object.
enum PlaceholderKey {
    Placeholder,
    Num,
    Other,
}

impl<'de> de::Deserialize<'de> for PlaceholderKey {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = PlaceholderKey;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<PlaceholderKey, E> {
                Ok(match v {
                    "_placeholder" => PlaceholderKey::Placeholder,
                    "num" => PlaceholderKey::Num,
                    _ => PlaceholderKey::Other,
                })
            }
        }
        deserializer.deserialize_identifier(KeyVisitor)
    }
}

impl<'de> Visitor<'de> for BinaryVisitor {
    type Value = Binary;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a binary attachment placeholder or an array of bytes")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Binary, A::Error> {
        let mut placeholder = false;
        let mut num = None;
        while let Some(key) = map.next_key::<PlaceholderKey>()? {
            match key {
                PlaceholderKey::Placeholder => placeholder = map.next_value::<bool>()?,
                PlaceholderKey::Num => num = Some(map.next_value::<u64>()?),
                PlaceholderKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if !placeholder {
            return Err(de::Error::invalid_value(de::Unexpected::Map, &self));
        }
        let num = num.ok_or_else(|| de::Error::missing_field("num"))?;
        resolve_attachment(num)
            .map(Binary)
            .map_err(de::Error::custom)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Binary, A::Error> {
        let mut bytes = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(byte) = seq.next_element::<u8>()? {
            bytes.push(byte);
        }
        Ok(Binary(bytes.into()))
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Binary, E> {
        Ok(Binary(Bytes::copy_from_slice(v)))
    }

    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Binary, E> {
        Ok(Binary(v.into()))
    }
}

// ---------------------------------------------------------------------------
// Spread
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// Writing packets
// ---------------------------------------------------------------------------

/// Writes the text of an EVENT (or BINARY_EVENT) packet to the end of `out`:
/// head `2[<nsp>,][<id>]` (or `5<N>-[<nsp>,][<id>]`) then
/// `["<event>",<args...>]`. Returns the attachments, in order (an empty `Vec`
/// when none: no allocation).
///
/// The argument convention: a tuple (`(a,)`, `(a, b)`, ...) spreads into
/// that many arguments; `()` means no argument; [`Args`] and [`Spread`]
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
const SCRATCH_RETAINED: usize = 64 * 1024;

thread_local! {
    /// Where the JSON of a packet is serialized before its head is known (the head
    /// depends on the number of attachments found while serializing).
    static SCRATCH: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

/// Runs `f` with this thread's (empty) scratch buffer.
///
/// The buffer is taken out of its slot for the duration: a nested call (from
/// a `Serialize` impl) finds the slot empty and uses a fresh buffer, and a
/// panic merely loses the buffer.
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

/// What the type of the top-level argument value says about its shape.
///
/// serde serializes `[T; N]` exactly like a tuple (`serialize_tuple`), and
/// `()` exactly like `serde_json::Value::Null` (`serialize_unit`), yet an
/// array or `Null` is ONE argument while a tuple spreads and `()` means none:
/// the type name is the only thing telling them apart. Should the format of
/// `type_name` ever change, arrays would spread and `()` would be written as
/// a `null` argument (tests cover this).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// `()`: no argument.
    Unit,
    /// `[T; N]` (or a slice): one argument, although serialized as a tuple.
    Array,
    /// Anything else: serializer calls decide.
    Other,
}

impl Shape {
    fn of<T: ?Sized>() -> Self {
        let mut name = std::any::type_name::<T>();
        while let Some(rest) = name.strip_prefix('&') {
            name = rest.strip_prefix("mut ").unwrap_or(rest);
        }
        if name == "()" {
            Self::Unit
        } else if name.starts_with('[') {
            Self::Array
        } else {
            Self::Other
        }
    }
}

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

// ---------------------------------------------------------------------------
// Args
// ---------------------------------------------------------------------------

/// Arguments of a received EVENT or ACK: the raw JSON array as received
/// (zero-copy), plus the binary attachments.
///
/// Arguments are deserialized on demand. [`Args::parse`] reads the array in
/// one pass; the other accessors split it into arguments first (a scan, no
/// parse, done once and only when needed). Cloning is cheap
/// (reference-counted buffers).
#[derive(Debug, Clone, Default)]
pub struct Args {
    /// The JSON array text (empty when there are no arguments).
    data: Bytes,
    /// Whether the first element of `data` (the event name) is not an
    /// argument.
    skip_first: bool,
    /// `start..end` of each argument's text within `data`, computed on first
    /// use.
    spans: OnceLock<SmallVec<[(usize, usize); 4]>>,
    /// `None` when there are no attachments.
    attachments: Option<Arc<[Bytes]>>,
}

impl Args {
    /// `data`: the validated JSON array text of the packet (for an EVENT it
    /// includes the event name as first element; `skip_first` = true then
    /// skips it). `None` data = no arguments.
    ///
    /// Does not look at the text. Text that is not a JSON array never
    /// panics: it yields no or erroneous arguments, whose deserialization
    /// then fails.
    pub fn new(data: Option<Bytes>, skip_first: bool, attachments: Vec<Bytes>) -> Self {
        let attachments = if attachments.is_empty() {
            None
        } else {
            Some(Arc::from(attachments))
        };
        Self {
            data: data.unwrap_or_default(),
            skip_first,
            spans: OnceLock::new(),
            attachments,
        }
    }

    /// Number of arguments.
    pub fn len(&self) -> usize {
        self.spans().len()
    }

    /// Whether there is no argument.
    pub fn is_empty(&self) -> bool {
        match self.spans.get() {
            Some(spans) => spans.is_empty(),
            None => Elements::new(&self.data, self.skip_first).next().is_none(),
        }
    }

    /// The arguments deserialized as one value: a tuple `(A, B)`, a `Vec<T>`
    /// or a struct with seq form takes all arguments; e.g.
    /// `args.parse::<(String, u32)>()`. `Binary` fields resolve placeholders
    /// against this `Args`' attachments.
    ///
    /// Like a JavaScript handler, a tuple or struct ignores extra trailing
    /// arguments; missing ones are an error (unless a struct field has a
    /// serde default). `()` accepts any arguments; `Option<T>` is `None` when
    /// there is no argument.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        let (data, skip_first) = if self.data.is_empty() {
            (&b"[]"[..], false)
        } else {
            (&self.data[..], self.skip_first)
        };
        let _scope = DecodeScope::enter(self.attachments.clone());
        let mut de = serde_json::Deserializer::from_slice(data);
        let value = de::Deserializer::deserialize_seq(
            &mut de,
            ParseVisitor {
                args: self,
                skip_first,
                marker: PhantomData,
            },
        )?;
        de.end()?;
        Ok(value)
    }

    /// One argument deserialized (index from 0, not counting the event
    /// name). An error when out of range.
    pub fn arg<T: DeserializeOwned>(&self, index: usize) -> Result<T, serde_json::Error> {
        let text = self.text(index).ok_or_else(|| {
            <serde_json::Error as de::Error>::custom(format_args!(
                "argument {index} out of range ({} arguments)",
                self.len()
            ))
        })?;
        let _scope = DecodeScope::enter(self.attachments.clone());
        serde_json::from_slice(text)
    }

    /// The raw JSON text of argument `index` (placeholders left as they
    /// are), borrowed from the packet. `None` when out of range (or when the
    /// text is not valid JSON). Validates the argument's text (a scan, no
    /// allocation) on each call.
    pub fn raw(&self, index: usize) -> Option<&RawValue> {
        serde_json::from_slice(self.text(index)?).ok()
    }

    /// The binary attachments in order.
    pub fn attachments(&self) -> &[Bytes] {
        self.attachments.as_deref().unwrap_or(&[])
    }

    /// The spans of the arguments.
    fn spans(&self) -> &[(usize, usize)] {
        self.spans
            .get_or_init(|| Elements::new(&self.data, self.skip_first).collect())
    }

    /// The text of argument `index`.
    fn text(&self, index: usize) -> Option<&[u8]> {
        let (start, end) = match self.spans.get() {
            Some(spans) => *spans.get(index)?,
            // Not split yet: scanning up to this argument is cheaper than
            // splitting everything (e.g. for the first arguments).
            None => Elements::new(&self.data, self.skip_first).nth(index)?,
        };
        self.data.get(start..end)
    }
}

/// Serializes as a tuple of its arguments, so that emitting an `Args` spreads
/// them into as many arguments (an echo server re-emits what it received).
///
/// Without attachments, the argument texts are written unchanged. With
/// attachments, placeholders are re-registered as attachments of the packet
/// being written (renumbered in the new packet's order), so binary survives
/// an echo, even when combined with other binary values; the containers
/// around a placeholder are rewritten compactly, the rest is kept verbatim.
/// A placeholder referring to a missing attachment is an error.
impl Serialize for Args {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let spans = self.spans();
        let mut tuple = serializer.serialize_tuple(spans.len())?;
        for &(start, end) in spans {
            let text = self.data.get(start..end).unwrap_or_default();
            let raw: &RawValue = serde_json::from_slice(text).map_err(ser::Error::custom)?;
            match &self.attachments {
                None => tuple.serialize_element(raw)?,
                Some(attachments) => tuple.serialize_element(&Rewrite {
                    raw,
                    attachments,
                    depth: 0,
                })?,
            }
        }
        tuple.end()
    }
}

/// Reads the packet's array for [`Args::parse`]: skips the event name,
/// gives the rest to `T`, then skips what `T` did not take.
struct ParseVisitor<'a, T> {
    args: &'a Args,
    skip_first: bool,
    marker: PhantomData<fn() -> T>,
}

impl<'de, T: DeserializeOwned> Visitor<'de> for ParseVisitor<'_, T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON array of arguments")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<T, A::Error> {
        if self.skip_first {
            seq.next_element::<IgnoredAny>()?;
        }
        let value = T::deserialize(ArgsDeserializer {
            seq: &mut seq,
            args: self.args,
        })?;
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(value)
    }
}

/// The arguments (the rest of the packet's array) as one sequence.
struct ArgsDeserializer<'a, A> {
    seq: A,
    args: &'a Args,
}

impl<'de, A: SeqAccess<'de>> de::Deserializer<'de> for ArgsDeserializer<'_, A> {
    type Error = A::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_seq(self.seq)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        if self.args.is_empty() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_unit()
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_unit()
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf seq tuple tuple_struct map struct enum identifier
    }
}

// ---------------------------------------------------------------------------
// Re-emitting received arguments with their attachments
// ---------------------------------------------------------------------------

/// A received value whose placeholders are re-emitted as [`Binary`] values.
struct Rewrite<'a> {
    raw: &'a RawValue,
    attachments: &'a [Bytes],
    /// Nesting level of `raw` in the argument.
    depth: usize,
}

/// Deepest nesting [`Rewrite`] descends into (serde_json's parsing limit).
const MAX_DEPTH: usize = 128;

/// Whether `text` may contain a `_placeholder` key: literally, or spelled
/// with `\u` escapes.
fn may_hold_placeholder(text: &str) -> bool {
    text.contains("_placeholder") || text.contains("\\u")
}

impl Serialize for Rewrite<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let text = self.raw.get();
        if !may_hold_placeholder(text) {
            return self.raw.serialize(serializer);
        }
        if self.depth >= MAX_DEPTH {
            return Err(ser::Error::custom("arguments nested too deeply"));
        }
        match text.as_bytes().first() {
            Some(b'[') => {
                let items: Vec<&RawValue> =
                    serde_json::from_str(text).map_err(ser::Error::custom)?;
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for raw in items {
                    seq.serialize_element(&Rewrite {
                        raw,
                        attachments: self.attachments,
                        depth: self.depth + 1,
                    })?;
                }
                seq.end()
            }
            Some(b'{') => {
                let Entries(entries) = serde_json::from_str(text).map_err(ser::Error::custom)?;
                if let Some(num) = placeholder_num(&entries).map_err(ser::Error::custom)? {
                    let bytes = usize::try_from(num)
                        .ok()
                        .and_then(|i| self.attachments.get(i))
                        .ok_or_else(|| {
                            ser::Error::custom(format_args!(
                                "binary placeholder refers to attachment {num}, but the packet has {}",
                                self.attachments.len()
                            ))
                        })?;
                    return serialize_binary(bytes, serializer);
                }
                let mut map = serializer.serialize_map(Some(entries.len()))?;
                for (key, raw) in &entries {
                    map.serialize_entry(
                        key,
                        &Rewrite {
                            raw,
                            attachments: self.attachments,
                            depth: self.depth + 1,
                        },
                    )?;
                }
                map.end()
            }
            _ => self.raw.serialize(serializer),
        }
    }
}

/// `Some(num)` when the object is a placeholder (`"_placeholder": true`),
/// an error when it is one without a valid `num`.
fn placeholder_num(entries: &[(Cow<'_, str>, &RawValue)]) -> Result<Option<u64>, &'static str> {
    // The last occurrence of a key wins, as with `JSON.parse`.
    let find = |name: &str| {
        entries
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.get().trim())
    };
    if find("_placeholder") != Some("true") {
        return Ok(None);
    }
    find("num")
        .and_then(|num| num.parse::<u64>().ok())
        .map(Some)
        .ok_or("binary placeholder without a valid `num`")
}

/// The entries of a JSON object, in order, with raw values.
struct Entries<'a>(Vec<(Cow<'a, str>, &'a RawValue)>);

impl<'de> de::Deserialize<'de> for Entries<'de> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntriesVisitor;
        impl<'de> Visitor<'de> for EntriesVisitor {
            type Value = Entries<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entries<'de>, A::Error> {
                let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0).min(64));
                while let Some(key) = map.next_key_seed(KeySeed)? {
                    entries.push((key, map.next_value::<&'de RawValue>()?));
                }
                Ok(Entries(entries))
            }
        }
        deserializer.deserialize_map(EntriesVisitor)
    }
}

/// An object key, borrowed when it has no escapes.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn deserialize<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde::{Deserialize, Serialize};
    use serde_json::{json, Value};

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

    #[test]
    fn no_args() {
        assert_eq!(event("/", None, "ev", &()).0, r#"2["ev"]"#);
        assert_eq!(event("/", None, "ev", &Spread::<u8>(&[])).0, r#"2["ev"]"#);
        assert_eq!(event("/", None, "ev", &Args::default()).0, r#"2["ev"]"#);
        let (text, atts) = event("/", None, "ev", &());
        assert_eq!(text, r#"2["ev"]"#);
        assert_eq!(atts.capacity(), 0);
    }

    #[test]
    fn one_string() {
        assert_eq!(event("/", None, "msg", "hello").0, r#"2["msg","hello"]"#);
        assert_eq!(
            event("/", None, "msg", &("hello",)).0,
            r#"2["msg","hello"]"#
        );
        assert_eq!(
            event("/", None, "m\"s\ng", "a\"b").0,
            r#"2["m\"s\ng","a\"b"]"#
        );
    }

    #[test]
    fn tuple_of_three() {
        let (text, atts) = event(
            "/",
            None,
            "ev",
            &(1, "two", json!({"three": [3.5, null, true]})),
        );
        assert_eq!(text, r#"2["ev",1,"two",{"three":[3.5,null,true]}]"#);
        assert!(atts.is_empty());
    }

    #[test]
    fn one_argument_values() {
        assert_eq!(
            event("/", None, "ev", &vec![1, 2, 3]).0,
            r#"2["ev",[1,2,3]]"#
        );
        assert_eq!(event("/", None, "ev", &[1, 2, 3]).0, r#"2["ev",[1,2,3]]"#);
        assert_eq!(event("/", None, "ev", &&[1u8, 2][..]).0, r#"2["ev",[1,2]]"#);
        let empty: [u8; 0] = [];
        assert_eq!(event("/", None, "ev", &empty).0, r#"2["ev",[]]"#);
        assert_eq!(event("/", None, "ev", &Vec::<u8>::new()).0, r#"2["ev",[]]"#);
        assert_eq!(event("/", None, "ev", &json!([1, 2])).0, r#"2["ev",[1,2]]"#);
        assert_eq!(event("/", None, "ev", &Value::Null).0, r#"2["ev",null]"#);
        assert_eq!(event("/", None, "ev", &None::<u8>).0, r#"2["ev",null]"#);
        assert_eq!(event("/", None, "ev", &Some((1, 2))).0, r#"2["ev",[1,2]]"#);
        assert_eq!(event("/", None, "ev", &42u64).0, r#"2["ev",42]"#);
        let raw = RawValue::from_string("[1, 2]".to_owned()).unwrap();
        assert_eq!(event("/", None, "ev", &*raw).0, r#"2["ev",[1, 2]]"#);
        assert_eq!(event("/", None, "ev", &raw).0, r#"2["ev",[1, 2]]"#);
        let mut map = std::collections::BTreeMap::new();
        map.insert(1, "a");
        assert_eq!(event("/", None, "ev", &map).0, r#"2["ev",{"1":"a"}]"#);
        // Nested tuples are one argument each.
        assert_eq!(
            event("/", None, "ev", &((1, 2), (3,))).0,
            r#"2["ev",[1,2],[3]]"#
        );
    }

    #[test]
    fn a_struct() {
        let user = User {
            name: "ann".into(),
            age: 7,
        };
        assert_eq!(
            event("/", None, "ev", &user).0,
            r#"2["ev",{"name":"ann","age":7}]"#
        );
        assert_eq!(
            event("/", None, "ev", &(&user, &user)).0,
            r#"2["ev",{"name":"ann","age":7},{"name":"ann","age":7}]"#
        );
    }

    #[test]
    fn namespace_and_id() {
        assert_eq!(
            event("/admin", Some(12), "ev", &(1,)).0,
            r#"2/admin,12["ev",1]"#
        );
        assert_eq!(event("/admin", None, "ev", &()).0, r#"2/admin,["ev"]"#);
        assert_eq!(event("/", Some(0), "ev", &()).0, r#"20["ev"]"#);
        assert_eq!(
            event("", Some(u64::MAX), "ev", &()).0,
            r#"218446744073709551615["ev"]"#
        );
    }

    #[test]
    fn acks() {
        assert_eq!(ack("/admin", 12, "ok").0, r#"3/admin,12["ok"]"#);
        assert_eq!(ack("/", 1, &()).0, "31[]");
        assert_eq!(ack("/", 1, &(1, "a")).0, r#"31[1,"a"]"#);
        assert_eq!(ack("/", 1, &vec![1]).0, "31[[1]]");
        assert_eq!(ack("/", 1, &Spread::<u8>(&[])).0, "31[]");
    }

    #[test]
    fn appends_to_existing_buffer() {
        let mut out = BytesMut::from(&b"xyz"[..]);
        write_event(&mut out, "/", None, "ev", &(1,)).unwrap();
        write_event(&mut out, "/", None, "ev", &(bin(b"a"),)).unwrap();
        assert_eq!(
            &out[..],
            br#"xyz2["ev",1]51-["ev",{"_placeholder":true,"num":0}]"#
        );
    }

    #[test]
    fn binary_event() {
        let (text, atts) = event("/", None, "ev", &(bin(b"abc"), json_map_with_binary()));
        assert_eq!(
            text,
            r#"52-["ev",{"_placeholder":true,"num":0},{"x":{"_placeholder":true,"num":1}}]"#
        );
        assert_eq!(
            atts,
            vec![Bytes::from_static(b"abc"), Bytes::from_static(b"def")]
        );
        // The attachment is the same buffer, not a copy.
        let data = Bytes::from_static(b"zero-copy");
        let (_, atts) = event("/", None, "ev", &Binary(data.clone()));
        assert_eq!(atts[0].as_ptr(), data.as_ptr());
    }

    fn json_map_with_binary() -> std::collections::BTreeMap<&'static str, Binary> {
        let mut map = std::collections::BTreeMap::new();
        map.insert("x", bin(b"def"));
        map
    }

    #[test]
    fn binary_with_namespace_id_and_many_attachments() {
        let many: Vec<Binary> = (0..12u8).map(|i| Binary(vec![i].into())).collect();
        let (text, atts) = event("/admin", Some(7), "ev", &many);
        assert!(
            text.starts_with(r#"512-/admin,7["ev",[{"_placeholder":true,"num":0},"#),
            "{text}"
        );
        assert!(
            text.ends_with(r#"{"_placeholder":true,"num":11}]]"#),
            "{text}"
        );
        assert_eq!(atts.len(), 12);
        assert_eq!(atts[11][..], [11]);
    }

    #[test]
    fn binary_ack() {
        let (text, atts) = ack("/", 4, &(1, bin(b"abc")));
        assert_eq!(text, r#"61-4[1,{"_placeholder":true,"num":0}]"#);
        assert_eq!(atts, vec![Bytes::from_static(b"abc")]);
        let (text, _) = ack("/nsp", 4, &bin(b""));
        assert_eq!(text, r#"61-/nsp,4[{"_placeholder":true,"num":0}]"#);
    }

    #[test]
    fn binary_outside_packets_is_a_byte_array() {
        assert_eq!(serde_json::to_string(&bin(b"\x01\x02")).unwrap(), "[1,2]");
        let back: Binary = serde_json::from_str("[1,2]").unwrap();
        assert_eq!(back, bin(b"\x01\x02"));
        let err = serde_json::from_str::<Binary>(r#"{"_placeholder":true,"num":0}"#).unwrap_err();
        assert!(err.to_string().contains("no attachment"), "{err}");
        assert!(serde_json::from_str::<Binary>(r#"{"num":0}"#).is_err());
        assert!(serde_json::from_str::<Binary>(r#""abc""#).is_err());
        // An `Args` with attachments, outside of a packet writer.
        let args = received(&(bin(b"\x05"), 1));
        assert_eq!(serde_json::to_string(&args).unwrap(), "[[5],1]");
    }

    #[test]
    fn round_trip_typed() {
        let file = File {
            name: "f".into(),
            content: bin(b"content"),
            chunks: vec![bin(b"c1"), bin(b""), bin(b"c3")],
        };
        let user = User {
            name: "bob".into(),
            age: 3,
        };
        let args = received(&("s", 5u32, &file, vec![bin(b"v1"), bin(b"v2")], &user));
        assert_eq!(args.len(), 5);
        assert_eq!(args.attachments().len(), 6);
        let (s, n, f, v, u): (String, u32, File, Vec<Binary>, User) = args.parse().unwrap();
        assert_eq!((s.as_str(), n), ("s", 5));
        assert_eq!(f, file);
        assert_eq!(v, vec![bin(b"v1"), bin(b"v2")]);
        assert_eq!(u, user);
        assert_eq!(args.arg::<File>(2).unwrap(), file);
        assert_eq!(
            args.arg::<Vec<Binary>>(3).unwrap(),
            vec![bin(b"v1"), bin(b"v2")]
        );
        assert_eq!(args.arg::<u32>(1).unwrap(), 5);
        // Fewer elements: extra arguments are ignored.
        assert_eq!(args.parse::<(String,)>().unwrap().0, "s");
        // More elements: error.
        assert!(args
            .parse::<(String, u32, File, Vec<Binary>, User, u8)>()
            .is_err());
        // Untagged enums buffer their input: placeholders still resolve.
        #[derive(Debug, Deserialize, PartialEq)]
        #[serde(untagged)]
        enum Either {
            Num(u32),
            Bin(Binary),
        }
        let args = received(&(1, bin(b"x")));
        assert_eq!(
            args.parse::<Vec<Either>>().unwrap(),
            vec![Either::Num(1), Either::Bin(bin(b"x"))]
        );
    }

    #[test]
    fn parse_forms() {
        let args = received(&(1, 2, 3));
        assert_eq!(args.parse::<Vec<u8>>().unwrap(), vec![1, 2, 3]);
        assert_eq!(args.parse::<[u8; 3]>().unwrap(), [1, 2, 3]);
        #[derive(Deserialize)]
        struct Three(u8, u8, u8);
        let Three(a, b, c) = args.parse().unwrap();
        assert_eq!((a, b, c), (1, 2, 3));
        #[derive(Deserialize)]
        struct Named {
            a: u8,
            b: u8,
        }
        let named: Named = args.parse().unwrap();
        assert_eq!((named.a, named.b), (1, 2));
        args.parse::<()>().unwrap();
        assert_eq!(args.parse::<Option<(u8,)>>().unwrap(), Some((1,)));
        assert_eq!(Args::default().parse::<Option<(u8,)>>().unwrap(), None);
        assert_eq!(
            Args::default().parse::<Vec<u8>>().unwrap(),
            Vec::<u8>::new()
        );
        Args::default().parse::<()>().unwrap();
        assert!(args.parse::<(String,)>().is_err());
        assert!(args.parse::<String>().is_err());
    }

    #[test]
    fn ack_args() {
        let (text, atts) = ack("/", 3, &("ok", 1));
        let p = split_packet(text.as_bytes());
        assert_eq!((p.ty, p.id, p.nsp.as_str()), (b'3', Some(3), "/"));
        let args = Args::new(Some(p.json), false, atts);
        assert_eq!(args.parse::<(String, u8)>().unwrap(), ("ok".into(), 1));
    }

    #[test]
    fn echo_is_byte_identical() {
        let cases: Vec<(String, Vec<Bytes>)> = vec![
            event("/", None, "ev", &()),
            event("/", None, "ev", &(1, "a,b]", json!({"k": [1, {"x": "]"}]}))),
            event("/", None, "ev", &(bin(b"abc"), json_map_with_binary())),
            event(
                "/",
                None,
                "ev",
                &(
                    json!({"_placeholder": "text"}),
                    bin(b"q"),
                    "\u{1}_placeholder",
                ),
            ),
            event(
                "/",
                None,
                "ev",
                &(vec![bin(b"1"), bin(b"2")], (bin(b"3"), 4)),
            ),
        ];
        for (text, atts) in cases {
            let p = split_packet(text.as_bytes());
            let args = Args::new(Some(p.json), true, atts.clone());
            let (again, atts_again) = event("/", None, "ev", &args);
            assert_eq!(again, text);
            assert_eq!(atts_again, atts);
            // Also as the arguments of an ack.
            let (acked, acked_atts) = ack("/", 1, &args);
            let p = split_packet(acked.as_bytes());
            assert_eq!(p.attachments, atts.len());
            let acked = Args::new(Some(p.json), false, acked_atts);
            assert_eq!(
                acked.parse::<Vec<Value>>().unwrap(),
                args.parse::<Vec<Value>>().unwrap()
            );
        }
    }

    #[test]
    fn echo_renumbers_attachments() {
        let args = received(&(1, bin(b"a"), json!([{"y": 2}]), vec![bin(b"b")]));
        // Nested in a tuple, the `Args` is one argument (an array).
        let (text, atts) = event("/", None, "echo", &(bin(b"first"), &args, bin(b"last")));
        assert_eq!(
            text,
            concat!(
                r#"54-["echo",{"_placeholder":true,"num":0},[1,{"_placeholder":true,"num":1},"#,
                r#"[{"y":2}],[{"_placeholder":true,"num":2}]],{"_placeholder":true,"num":3}]"#
            )
        );
        let expect: Vec<Bytes> = [&b"first"[..], b"a", b"b", b"last"]
            .iter()
            .map(|b| Bytes::copy_from_slice(b))
            .collect();
        assert_eq!(atts, expect);
        // The echoed attachments are the received buffers, not copies.
        assert_eq!(atts[1].as_ptr(), args.attachments()[0].as_ptr());
    }

    #[test]
    fn echo_of_foreign_text() {
        // Whitespace, placeholders in any key order or with escapes.
        let json = br#" [ "ev" , { "a" : [ 1 , { "num" : 1 , "_placeholder" : true } ] } , {"\u005fplaceholder":true,"num":0}, 2 ] "#;
        let args = Args::new(
            Some(Bytes::from_static(json)),
            true,
            vec![Bytes::from_static(b"zero"), Bytes::from_static(b"one")],
        );
        assert_eq!(args.len(), 3);
        let (text, atts) = event("/", None, "ev", &args);
        assert_eq!(
            text,
            r#"52-["ev",{"a":[1,{"_placeholder":true,"num":0}]},{"_placeholder":true,"num":1},2]"#
        );
        assert_eq!(
            atts,
            vec![Bytes::from_static(b"one"), Bytes::from_static(b"zero")]
        );
        // A placeholder without its attachment is an error, `out` untouched.
        let args = Args::new(
            Some(Bytes::from_static(
                br#"["ev",{"_placeholder":true,"num":2}]"#,
            )),
            true,
            vec![Bytes::from_static(b"zero")],
        );
        let mut out = BytesMut::from(&b"keep"[..]);
        assert!(write_event(&mut out, "/", None, "ev", &args).is_err());
        assert_eq!(&out[..], b"keep");
        // Without attachments, it is plain JSON: written verbatim.
        let args = Args::new(
            Some(Bytes::from_static(
                br#"["ev", {"_placeholder":true,"num":2}]"#,
            )),
            true,
            vec![],
        );
        assert_eq!(
            event("/", None, "ev", &args).0,
            r#"2["ev",{"_placeholder":true,"num":2}]"#
        );
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let depth = 1_000;
        let mut json = String::from("[\"ev\",");
        json.push_str(&"[".repeat(depth));
        json.push_str(r#"{"_placeholder":true,"num":0}"#);
        json.push_str(&"]".repeat(depth));
        json.push(']');
        let args = Args::new(Some(json.into()), true, vec![Bytes::from_static(b"x")]);
        assert_eq!(args.len(), 1);
        assert!(args.raw(0).is_some());
        assert!(args.parse::<Vec<Value>>().is_err());
        assert!(args.arg::<Value>(0).is_err());
        let mut out = BytesMut::new();
        assert!(write_event(&mut out, "/", None, "ev", &args).is_err());
        assert!(out.is_empty());
        // Within the limit, it works.
        let depth = 100;
        let mut json = String::from("[\"ev\",");
        json.push_str(&"[".repeat(depth));
        json.push_str(r#"{"_placeholder":true,"num":0}"#);
        json.push_str(&"]".repeat(depth));
        json.push(']');
        let args = Args::new(
            Some(json.clone().into()),
            true,
            vec![Bytes::from_static(b"x")],
        );
        let (text, atts) = event("/", None, "ev", &args);
        assert_eq!(text, format!("51-{json}"));
        assert_eq!(atts.len(), 1);
    }

    #[test]
    fn len_and_raw() {
        let json = br#"["ev", [1, [2, "]"]], "a,b", {"k": "}\"[", "l": {"m": []}}, "\\", 3.5e1 , null,true]"#;
        let args = Args::new(Some(Bytes::from_static(json)), true, vec![]);
        assert_eq!(args.len(), 7);
        assert!(!args.is_empty());
        let raws: Vec<&str> = (0..7).map(|i| args.raw(i).unwrap().get()).collect();
        assert_eq!(
            raws,
            [
                r#"[1, [2, "]"]]"#,
                r#""a,b""#,
                r#"{"k": "}\"[", "l": {"m": []}}"#,
                r#""\\""#,
                "3.5e1",
                "null",
                "true"
            ]
        );
        assert!(args.raw(7).is_none());
        assert_eq!(args.arg::<String>(1).unwrap(), "a,b");
        assert_eq!(args.arg::<String>(3).unwrap(), "\\");
        assert_eq!(args.arg::<f64>(4).unwrap(), 35.0);
        let without_skip = Args::new(Some(Bytes::from_static(json)), false, vec![]);
        assert_eq!(without_skip.len(), 8);
        assert_eq!(without_skip.arg::<String>(0).unwrap(), "ev");

        for (text, skip, len) in [
            (&b"[]"[..], false, 0),
            (b"[]", true, 0),
            (b"[\"ev\"]", true, 0),
            (b" [ \"ev\" ] ", true, 0),
            (b"[ 1 ]", false, 1),
            (b"[[],{},\"\"]", false, 3),
        ] {
            let args = Args::new(Some(Bytes::copy_from_slice(text)), skip, vec![]);
            assert_eq!(args.len(), len, "{}", String::from_utf8_lossy(text));
        }
        assert!(Args::new(None, true, vec![]).is_empty());
        // Garbage never panics.
        for text in [
            &b""[..],
            b"{",
            b"[",
            b"[\"",
            b"[\"\\",
            b"[\"\\\"",
            b"[1,",
            b"[,]",
            b"]]][[[",
            b"[\xff\xfe]",
            b"[\"\xff\"]",
            b"[}}}]",
        ] {
            let args = Args::new(Some(Bytes::copy_from_slice(text)), true, vec![]);
            for i in 0..args.len() + 1 {
                let _ = args.raw(i);
                let _ = args.arg::<Value>(i);
            }
            let _ = args.parse::<Vec<Value>>();
            let _ = event("/", None, "ev", &args);
        }
    }

    #[test]
    fn arg_out_of_range() {
        let args = received(&(1, 2));
        let err = args.arg::<u8>(2).unwrap_err();
        assert!(err.to_string().contains("out of range"), "{err}");
        assert!(Args::default().arg::<Value>(0).is_err());
    }

    #[test]
    fn binary_placeholder_out_of_range() {
        let args = Args::new(
            Some(Bytes::from_static(
                br#"["ev",{"_placeholder":true,"num":1}]"#,
            )),
            true,
            vec![Bytes::from_static(b"only")],
        );
        let err = args.arg::<Binary>(0).unwrap_err();
        assert!(err.to_string().contains("attachment 1"), "{err}");
        assert!(args.parse::<(Binary,)>().is_err());
        // The placeholder stays visible as plain JSON.
        assert_eq!(
            args.arg::<Value>(0).unwrap(),
            json!({"_placeholder": true, "num": 1})
        );
        // No attachments at all.
        let args = Args::new(
            Some(Bytes::from_static(
                br#"["ev",{"_placeholder":true,"num":0}]"#,
            )),
            true,
            vec![],
        );
        assert!(args.arg::<Binary>(0).is_err());
        // Not a placeholder.
        let args = Args::new(
            Some(Bytes::from_static(
                br#"["ev",{"_placeholder":false,"num":0}]"#,
            )),
            true,
            vec![Bytes::from_static(b"x")],
        );
        assert!(args.arg::<Binary>(0).is_err());
    }

    #[test]
    fn decode_scope_is_restored() {
        let args = received(&(bin(b"x"),));
        // Inside a nested parse, the inner attachments are visible; after it,
        // the outer ones again.
        struct Nested(Binary, Binary);
        impl<'de> Deserialize<'de> for Nested {
            fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let inner = received(&(bin(b"inner"),));
                let inner: Binary = inner.arg(0).map_err(de::Error::custom)?;
                let outer = Binary::deserialize(d)?;
                Ok(Nested(inner, outer))
            }
        }
        let Nested(inner, outer) = args.arg(0).unwrap();
        assert_eq!((inner, outer), (bin(b"inner"), bin(b"x")));
        // A panic inside a parse does not leave the attachments set.
        struct Panics;
        impl<'de> Deserialize<'de> for Panics {
            fn deserialize<D: de::Deserializer<'de>>(_: D) -> Result<Self, D::Error> {
                panic!("user code");
            }
        }
        let caught = std::panic::catch_unwind(|| args.arg::<Panics>(0).map(|_| ()));
        assert!(caught.is_err());
        assert!(serde_json::from_str::<Binary>(r#"{"_placeholder":true,"num":0}"#).is_err());
    }

    #[test]
    fn errors_leave_out_unchanged() {
        struct Fails;
        impl Serialize for Fails {
            fn serialize<S: Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
                Err(ser::Error::custom("nope"))
            }
        }
        let mut map = std::collections::HashMap::new();
        map.insert(vec![1u8], 1); // non-string keys fail in JSON
        for nsp in ["/", "/admin"] {
            let mut out = BytesMut::from(&b"prefix"[..]);
            assert!(write_event(&mut out, nsp, Some(3), "ev", &Fails).is_err());
            assert!(write_event(&mut out, nsp, Some(3), "ev", &(1, bin(b"a"), Fails)).is_err());
            assert!(write_event(&mut out, nsp, None, "ev", &map).is_err());
            assert!(write_ack(&mut out, nsp, 3, &(bin(b"a"), Fails)).is_err());
            assert!(write_ack(&mut out, nsp, 3, &vec![Fails]).is_err());
            assert_eq!(&out[..], b"prefix");
        }
    }

    #[test]
    fn nested_writes_are_independent() {
        // A `Serialize` impl writing another packet (scratch buffer and
        // attachment lists are per call).
        struct Nested;
        impl Serialize for Nested {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let (inner, atts) = event("/", Some(1), "inner", &(bin(b"in"), 2));
                assert_eq!(inner, r#"51-1["inner",{"_placeholder":true,"num":0},2]"#);
                assert_eq!(atts, vec![Bytes::from_static(b"in")]);
                let mut seq = s.serialize_seq(Some(2))?;
                seq.serialize_element(&bin(b"out"))?;
                seq.serialize_element(&inner)?;
                seq.end()
            }
        }
        let (text, atts) = event("/", None, "outer", &(bin(b"first"), Nested));
        assert_eq!(
            text,
            r#"52-["outer",{"_placeholder":true,"num":0},[{"_placeholder":true,"num":1},"51-1[\"inner\",{\"_placeholder\":true,\"num\":0},2]"]]"#
        );
        assert_eq!(
            atts,
            vec![Bytes::from_static(b"first"), Bytes::from_static(b"out")]
        );
    }

    #[test]
    fn big_payloads() {
        let big = "x".repeat(200_000);
        let (text, _) = event("/", None, "ev", &(&big,));
        assert_eq!(text.len(), big.len() + r#"2["ev",""]"#.len());
        assert_eq!(event("/", None, "ev", &(1,)).0, r#"2["ev",1]"#);
        let scratch = SCRATCH.with(|c| c.take());
        assert!(scratch.capacity() <= SCRATCH_RETAINED);
    }

    #[test]
    fn args_is_send_and_sync() {
        fn check<T: Send + Sync + 'static>() {}
        check::<Args>();
        check::<Binary>();
    }

    #[test]
    fn bytes_serializers_become_attachments() {
        struct RawBytes<'a>(&'a [u8]);
        impl Serialize for RawBytes<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_bytes(self.0)
            }
        }
        let (text, atts) = event("/", None, "ev", &(RawBytes(b"copied"),));
        assert_eq!(text, r#"51-["ev",{"_placeholder":true,"num":0}]"#);
        assert_eq!(atts, vec![Bytes::from_static(b"copied")]);
    }

    #[test]
    fn shape_detection() {
        assert_eq!(Shape::of::<[u8; 3]>(), Shape::Array);
        assert_eq!(Shape::of::<&[u8; 3]>(), Shape::Array);
        assert_eq!(Shape::of::<&mut &[u8; 0]>(), Shape::Array);
        assert_eq!(Shape::of::<[Value]>(), Shape::Array);
        assert_eq!(Shape::of::<()>(), Shape::Unit);
        assert_eq!(Shape::of::<&()>(), Shape::Unit);
        assert_eq!(Shape::of::<((),)>(), Shape::Other);
        assert_eq!(Shape::of::<(u8, u8)>(), Shape::Other);
        assert_eq!(Shape::of::<Args>(), Shape::Other);
        assert_eq!(Shape::of::<Vec<u8>>(), Shape::Other);
        assert_eq!(Shape::of::<Value>(), Shape::Other);
        assert_eq!(event("/", None, "ev", &&()).0, r#"2["ev"]"#);
        assert_eq!(event("/", None, "ev", &((),)).0, r#"2["ev",null]"#);
        assert_eq!(ack("/", 1, &Value::Null).0, "31[null]");
    }

    /// A `Value`-like tree with binary leaves, for the echo property.
    #[derive(Debug, Clone)]
    enum Tree {
        Leaf(Value),
        Bin(Vec<u8>),
        Arr(Vec<Tree>),
        Obj(Vec<(String, Tree)>),
    }

    impl Serialize for Tree {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            match self {
                Tree::Leaf(v) => v.serialize(s),
                Tree::Bin(b) => Binary(Bytes::copy_from_slice(b)).serialize(s),
                Tree::Arr(items) => items.serialize(s),
                Tree::Obj(entries) => {
                    let mut map = s.serialize_map(Some(entries.len()))?;
                    for (k, v) in entries {
                        map.serialize_entry(k, v)?;
                    }
                    map.end()
                }
            }
        }
    }

    fn arb_string() -> impl Strategy<Value = String> {
        prop_oneof![
            ".{0,8}",
            "[\\[\\]{},:\"\\\\ _a-z\u{1}\n]{0,10}",
            Just("_placeholder".to_owned()),
            Just("\\u005f".to_owned()),
        ]
    }

    fn arb_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            // Exactly representable floats (serde_json's default float
            // parsing is not guaranteed to round-trip every f64).
            (-100_000i32..100_000).prop_map(|n| Value::from(f64::from(n) / 64.0)),
            arb_string().prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::vec((arb_string(), inner), 0..6)
                    .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
    }

    /// Whether `v` holds an object that would pass for a placeholder.
    fn fake_placeholder(v: &Value) -> bool {
        match v {
            Value::Array(items) => items.iter().any(fake_placeholder),
            Value::Object(map) => {
                map.get("_placeholder") == Some(&Value::Bool(true))
                    || map.values().any(fake_placeholder)
            }
            _ => false,
        }
    }

    fn arb_tree() -> impl Strategy<Value = Tree> {
        let leaf = prop_oneof![
            3 => arb_value().prop_filter("fake placeholder", |v| !fake_placeholder(v)).prop_map(Tree::Leaf),
            1 => prop::collection::vec(any::<u8>(), 0..6).prop_map(Tree::Bin),
        ];
        leaf.prop_recursive(3, 32, 5, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Tree::Arr),
                prop::collection::vec(("[a-z_\u{1}]{0,4}", inner), 0..5).prop_map(Tree::Obj),
            ]
        })
    }

    proptest! {
        #[test]
        fn values_round_trip(
            values in prop::collection::vec(arb_value(), 0..6),
            nsp in prop_oneof![Just("/"), Just("/admin")],
            id in proptest::option::of(any::<u64>()),
        ) {
            let mut out = BytesMut::new();
            let atts = write_event(&mut out, nsp, id, "ev", &Spread(&values)).unwrap();
            prop_assert!(atts.is_empty());
            let p = split_packet(&out);
            prop_assert_eq!((p.ty, p.nsp.as_str(), p.id), (b'2', nsp, id));
            // The whole packet JSON is valid.
            let whole: Vec<Value> = serde_json::from_slice(&p.json).unwrap();
            prop_assert_eq!(&whole[1..], &values[..]);
            // Accessors before and after the arguments are split.
            let fresh = Args::new(Some(p.json.clone()), true, vec![]);
            prop_assert_eq!(fresh.is_empty(), values.is_empty());
            for (i, v) in values.iter().enumerate().rev() {
                prop_assert_eq!(&fresh.arg::<Value>(i).unwrap(), v);
            }
            prop_assert!(fresh.raw(values.len()).is_none());
            let args = Args::new(Some(p.json), true, atts);
            prop_assert_eq!(args.len(), values.len());
            prop_assert_eq!(&args.parse::<Vec<Value>>().unwrap(), &values);
            for (i, v) in values.iter().enumerate() {
                prop_assert_eq!(&args.arg::<Value>(i).unwrap(), v);
                let raw: Value = serde_json::from_str(args.raw(i).unwrap().get()).unwrap();
                prop_assert_eq!(&raw, v);
            }
            // As ONE argument.
            let mut out = BytesMut::new();
            write_ack(&mut out, nsp, 9, &values).unwrap();
            let p = split_packet(&out);
            let args = Args::new(Some(p.json), false, vec![]);
            prop_assert_eq!(args.len(), 1);
            prop_assert_eq!(&args.parse::<(Vec<Value>,)>().unwrap().0, &values);
        }

        #[test]
        fn binary_trees_echo(trees in prop::collection::vec(arb_tree(), 0..5)) {
            let mut out = BytesMut::new();
            let atts = write_event(&mut out, "/", None, "ev", &Spread(&trees)).unwrap();
            let p = split_packet(&out);
            prop_assert_eq!(p.attachments, atts.len());
            prop_assert_eq!(p.ty, if atts.is_empty() { b'2' } else { b'5' });
            let args = Args::new(Some(p.json), true, atts.clone());
            prop_assert_eq!(args.len(), trees.len());
            prop_assert_eq!(args.parse::<Vec<Value>>().unwrap().len(), trees.len());
            let mut again = BytesMut::new();
            let atts_again = write_event(&mut again, "/", None, "ev", &args).unwrap();
            prop_assert_eq!(&again[..], &out[..]);
            prop_assert_eq!(atts_again, atts);
        }
    }
}
