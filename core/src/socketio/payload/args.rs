//! Reading arguments: [`Args`] holds a received packet's JSON array and
//! attachments, splits it into arguments with the shared JSON scanner, and
//! deserializes them on demand; serializing an `Args` re-emits the arguments,
//! binary included.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor,
};
use serde::ser::{self, Serialize, SerializeMap, SerializeSeq, SerializeTuple, Serializer};
use serde_json::value::RawValue;
use smallvec::SmallVec;

use super::binary::{serialize_binary, DecodeScope};
use crate::wire::json::Elements;

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

// Re-emitting received arguments with their attachments

/// A received value whose placeholders are re-emitted as [`Binary`](super::Binary) values.
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
