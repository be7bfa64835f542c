//! [`Binary`], and the thread-local hand-offs between serde impls and the
//! packet writer/reader: a `Binary` being serialized lends its `Bytes` to the
//! packet formatter (which keeps it as an attachment without copying), and
//! [`Args`](super::Args) being parsed makes its attachments visible to
//! `Binary::deserialize`.

use std::cell::Cell;
use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, Serializer};

thread_local! {
    /// The `Bytes` handle of the [`Binary`] being serialized, lent to the
    /// packet formatter so that it can keep the attachment without copying.
    static LENT: Cell<Option<Bytes>> = const { Cell::new(None) };

    /// The attachments of the [`Args`](super::Args) being parsed on this thread, if any.
    static DECODE: Cell<Option<Arc<[Bytes]>>> = const { Cell::new(None) };
}

/// Takes the lent handle if it designates exactly `value`.
///
/// Pointer and length equality is enough: the lent `Bytes` keeps its memory
/// alive and immutable, so any slice at the same place with the same length
/// has the same content (even if the handle is a stale one left by a panic).
pub(super) fn take_lent(value: &[u8]) -> Option<Bytes> {
    let lent = LENT.try_with(Cell::take).ok().flatten()?;
    (lent.as_ptr() == value.as_ptr() && lent.len() == value.len()).then_some(lent)
}

/// Makes the attachments of one [`Args`](super::Args) visible to `Binary::deserialize` for
/// the lifetime of the guard; restores the previous ones on drop (also on
/// unwind), so nested parses and panicking user code cannot leak them.
pub(super) struct DecodeScope {
    previous: Option<Arc<[Bytes]>>,
}

impl DecodeScope {
    pub(super) fn enter(attachments: Option<Arc<[Bytes]>>) -> Self {
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

/// A binary argument (or a binary value nested anywhere inside an argument).
///
/// Serialize: inside [`write_event`](super::write_event) /
/// [`write_ack`](super::write_ack), registers the bytes as the next attachment
/// of the packet being written (without copying them) and writes the
/// placeholder object `{"_placeholder":true,"num":K}`. With any other
/// serializer it is serialized with `serialize_bytes`, which plain
/// `serde_json` writes as an array of byte numbers (`[1,2,3]`).
///
/// Deserialize: from a placeholder object, looking up the attachment of the
/// [`Args`](super::Args) being parsed ([`Args::parse`](super::Args::parse),
/// [`Args::arg`](super::Args::arg)); an error when there is no such
/// attachment (or outside of these calls). Also accepts
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
pub(super) fn serialize_binary<S: Serializer>(
    bytes: &Bytes,
    serializer: S,
) -> Result<S::Ok, S::Error> {
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
