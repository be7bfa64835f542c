//! Reading: one binary message to a [`Decoded`] packet (see the [module docs](super)).

use bytes::Bytes;

use super::{MsgpackError, MAX_DEPTH};
use crate::wire::json;
use crate::wire::sio::{Packet, PacketType, MAX_ACK_ID, RESERVED_EVENTS};
use crate::wire::{push_js_number, Decimal};

/// A packet read from one binary message: the packet in the form the JSON parser gives
/// ([`Packet`], its `data` JSON text with placeholders), and its binary values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// The packet. `kind` is `BinaryEvent`/`BinaryAck` for an EVENT/ACK holding binary
    /// values, and `attachments` their number (for other types too).
    pub packet: Packet,
    /// The binary values, in the order of their placeholders' `num`: zero-copy slices of
    /// the input.
    pub attachments: Vec<Bytes>,
}

/// What one msgpack value is, as far as the packet checks care.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    /// A number, with its value as JavaScript reads it (`None` for an integer outside
    /// `i64`/`u64` never happens: every msgpack integer fits one of them).
    Int(i128),
    Float(f64),
    Str,
    Map,
    /// An array, or an ext value that notepack reads as `[type, Buffer]`.
    Array,
    /// `undefined` (fixext 1 of type 0).
    Undefined,
    Other,
}

/// A cursor over the input.
struct Reader<'a> {
    input: &'a Bytes,
    pos: usize,
}

/// A value's header, read by [`Reader::head`].
enum Head {
    Nil,
    Bool(bool),
    Int(i128),
    Float(f64),
    /// A string of this many bytes follows.
    Str(usize),
    /// Binary data (msgpack bin, or an ext of type 0 of another size than 1 and 8: an
    /// `ArrayBuffer` in notepack) of this many bytes follows.
    Bin(usize),
    Array(usize),
    Map(usize),
    /// An ext value notepack reads as `[type, Buffer]`.
    Ext(i8, usize),
    Undefined,
    /// A `Date` (fixext 8 of type 0): milliseconds since the epoch.
    Date(i64),
}

type R<T> = Result<T, MsgpackError>;

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> R<&'a [u8]> {
        let end = self.pos.checked_add(n).ok_or(MsgpackError::Malformed)?;
        let s = self
            .input
            .get(self.pos..end)
            .ok_or(MsgpackError::Malformed)?;
        self.pos = end;
        Ok(s)
    }

    fn u8(&mut self) -> R<u8> {
        Ok(self.take(1)?[0])
    }

    fn be<const N: usize>(&mut self) -> R<[u8; N]> {
        let mut a = [0; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    fn len16(&mut self) -> R<usize> {
        Ok(usize::from(u16::from_be_bytes(self.be()?)))
    }

    fn len32(&mut self) -> R<usize> {
        usize::try_from(u32::from_be_bytes(self.be()?)).map_err(|_| MsgpackError::Malformed)
    }

    /// A container of `n` elements needs at least `n * per` more bytes: refuse lengths
    /// the input can not hold before looping over them.
    fn check_count(&self, n: usize, per: usize) -> R<usize> {
        let left = self.input.len() - self.pos;
        match n.checked_mul(per) {
            Some(need) if need <= left => Ok(n),
            _ => Err(MsgpackError::Malformed),
        }
    }

    fn ext(&mut self, len: usize) -> R<Head> {
        let ty = self.u8()? as i8;
        Ok(match (ty, len) {
            (0, 1) => {
                self.take(1)?;
                Head::Undefined
            }
            (0, 8) => Head::Date(i64::from_be_bytes(self.be()?)),
            (ty, len) => Head::Ext(ty, len),
        })
    }

    fn head(&mut self) -> R<Head> {
        let m = self.u8()?;
        Ok(match m {
            0x00..=0x7f => Head::Int(i128::from(m)),
            0x80..=0x8f => Head::Map(self.check_count(usize::from(m & 0x0f), 2)?),
            0x90..=0x9f => Head::Array(self.check_count(usize::from(m & 0x0f), 1)?),
            0xa0..=0xbf => Head::Str(usize::from(m & 0x1f)),
            0xc0 => Head::Nil,
            0xc2 => Head::Bool(false),
            0xc3 => Head::Bool(true),
            0xc4 => Head::Bin(usize::from(self.u8()?)),
            0xc5 => Head::Bin(self.len16()?),
            0xc6 => Head::Bin(self.len32()?),
            0xc7..=0xc9 => {
                let len = match m {
                    0xc7 => usize::from(self.u8()?),
                    0xc8 => self.len16()?,
                    _ => self.len32()?,
                };
                // notepack: an ext of type 0 is an ArrayBuffer, whatever its size.
                match self.u8()? as i8 {
                    0 => Head::Bin(len),
                    ty => Head::Ext(ty, len),
                }
            }
            0xca => Head::Float(f64::from(f32::from_be_bytes(self.be()?))),
            0xcb => Head::Float(f64::from_be_bytes(self.be()?)),
            0xcc => Head::Int(i128::from(self.u8()?)),
            0xcd => Head::Int(i128::from(u16::from_be_bytes(self.be()?))),
            0xce => Head::Int(i128::from(u32::from_be_bytes(self.be()?))),
            0xcf => Head::Int(i128::from(u64::from_be_bytes(self.be()?))),
            0xd0 => Head::Int(i128::from(self.u8()? as i8)),
            0xd1 => Head::Int(i128::from(i16::from_be_bytes(self.be()?))),
            0xd2 => Head::Int(i128::from(i32::from_be_bytes(self.be()?))),
            0xd3 => Head::Int(i128::from(i64::from_be_bytes(self.be()?))),
            0xd4 => self.ext(1)?,
            0xd5 => self.ext(2)?,
            0xd6 => self.ext(4)?,
            0xd7 => self.ext(8)?,
            0xd8 => self.ext(16)?,
            0xd9 => Head::Str(usize::from(self.u8()?)),
            0xda => Head::Str(self.len16()?),
            0xdb => Head::Str(self.len32()?),
            0xdc => {
                let n = self.len16()?;
                Head::Array(self.check_count(n, 1)?)
            }
            0xdd => {
                let n = self.len32()?;
                Head::Array(self.check_count(n, 1)?)
            }
            0xde => {
                let n = self.len16()?;
                Head::Map(self.check_count(n, 2)?)
            }
            0xdf => {
                let n = self.len32()?;
                Head::Map(self.check_count(n, 2)?)
            }
            0xe0..=0xff => Head::Int(i128::from(m as i8)),
            // 0xc1: never used.
            _ => return Err(MsgpackError::Malformed),
        })
    }

    fn str(&mut self, len: usize) -> R<&'a str> {
        std::str::from_utf8(self.take(len)?).map_err(|_| MsgpackError::InvalidUtf8)
    }

    /// Skips one value, checking it as [`Writer::value`] would (depth, UTF-8, keys).
    fn skip(&mut self, depth: usize) -> R<Kind> {
        if depth > MAX_DEPTH {
            return Err(MsgpackError::TooDeep);
        }
        Ok(match self.head()? {
            Head::Nil | Head::Bool(_) | Head::Date(_) => Kind::Other,
            Head::Int(n) => Kind::Int(n),
            Head::Float(f) => Kind::Float(f),
            Head::Str(len) => {
                self.str(len)?;
                Kind::Str
            }
            Head::Bin(len) => {
                self.take(len)?;
                Kind::Other
            }
            Head::Ext(_, len) => {
                self.take(len)?;
                Kind::Array
            }
            Head::Undefined => Kind::Undefined,
            Head::Array(n) => {
                for _ in 0..n {
                    self.skip(depth + 1)?;
                }
                Kind::Array
            }
            Head::Map(n) => {
                let mut key = String::new();
                for _ in 0..n {
                    self.key(&mut key)?;
                    self.skip(depth + 1)?;
                }
                Kind::Map
            }
        })
    }

    /// Reads a map key into `key`, as JavaScript turns it into a property name
    /// (`String(key)`): strings as they are, numbers, `null`, booleans and `undefined`
    /// spelled out. Other keys (arrays, maps, binary, dates) are refused.
    fn key(&mut self, key: &mut String) -> R<()> {
        key.clear();
        match self.head()? {
            Head::Str(len) => key.push_str(self.str(len)?),
            Head::Int(n) => push_int(key, n),
            Head::Float(f) => push_js_number(key, f, "NaN", "Infinity"),
            Head::Nil => key.push_str("null"),
            Head::Bool(b) => key.push_str(if b { "true" } else { "false" }),
            Head::Undefined => key.push_str("undefined"),
            _ => return Err(MsgpackError::InvalidKey),
        }
        Ok(())
    }
}

/// Writes msgpack values as JSON text, binary values becoming placeholders.
struct Writer<'a, 'r> {
    reader: &'r mut Reader<'a>,
    json: String,
    attachments: Vec<Bytes>,
    max_attachments: usize,
    key: String,
}

impl Writer<'_, '_> {
    fn attachment(&mut self, len: usize) -> R<()> {
        if self.attachments.len() >= self.max_attachments {
            return Err(MsgpackError::TooManyAttachments);
        }
        let start = self.reader.pos;
        self.reader.take(len)?;
        let num = Decimal::new(self.attachments.len() as u64);
        self.attachments
            .push(self.reader.input.slice(start..start + len));
        self.json.push_str("{\"_placeholder\":true,\"num\":");
        self.json.push_str(num.as_str());
        self.json.push('}');
        Ok(())
    }

    /// Writes one value as `JSON.stringify` would write what notepack decodes; `undefined`
    /// writes nothing and answers `false` (the caller decides what it becomes).
    fn value(&mut self, depth: usize) -> R<bool> {
        if depth > MAX_DEPTH {
            return Err(MsgpackError::TooDeep);
        }
        match self.reader.head()? {
            Head::Nil => self.json.push_str("null"),
            Head::Bool(b) => self.json.push_str(if b { "true" } else { "false" }),
            Head::Int(n) => push_int(&mut self.json, n),
            Head::Float(f) => push_js_number(&mut self.json, f, "null", "null"),
            Head::Str(len) => json::push_string(&mut self.json, self.reader.str(len)?),
            Head::Bin(len) => self.attachment(len)?,
            Head::Ext(ty, len) => {
                self.json.push('[');
                push_int(&mut self.json, i128::from(ty));
                self.json.push(',');
                self.attachment(len)?;
                self.json.push(']');
            }
            Head::Undefined => return Ok(false),
            Head::Date(ms) => push_date(&mut self.json, ms),
            Head::Array(n) => {
                self.json.push('[');
                for i in 0..n {
                    if i > 0 {
                        self.json.push(',');
                    }
                    if !self.value(depth + 1)? {
                        self.json.push_str("null");
                    }
                }
                self.json.push(']');
            }
            Head::Map(n) => {
                self.json.push('{');
                let mut first = true;
                for _ in 0..n {
                    let mark = self.json.len();
                    if !first {
                        self.json.push(',');
                    }
                    let mut key = std::mem::take(&mut self.key);
                    self.reader.key(&mut key)?;
                    json::push_string(&mut self.json, &key);
                    self.key = key;
                    self.json.push(':');
                    if self.value(depth + 1)? {
                        first = false;
                    } else {
                        // A member whose value is `undefined` is left out.
                        self.json.truncate(mark);
                    }
                }
                self.json.push('}');
            }
        }
        Ok(true)
    }
}

/// An integer in decimal.
fn push_int(out: &mut String, n: i128) {
    if n < 0 {
        out.push('-');
    }
    // Every msgpack integer is within -2^63..2^64.
    out.push_str(Decimal::new(u64::try_from(n.unsigned_abs()).unwrap_or(u64::MAX)).as_str());
}

/// A `Date` as `JSON.stringify` writes it: `Date.prototype.toISOString`, as a string
/// (`null` for a time outside the range of dates).
fn push_date(out: &mut String, ms: i64) {
    const MAX: i64 = 8_640_000_000_000_000;
    if !(-MAX..=MAX).contains(&ms) {
        out.push_str("null");
        return;
    }
    let days = ms.div_euclid(86_400_000);
    let in_day = ms.rem_euclid(86_400_000);
    // Days to a civil date (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let year = if (0..=9999).contains(&year) {
        format!("{year:04}")
    } else {
        format!("{}{:06}", if year < 0 { '-' } else { '+' }, year.abs())
    };
    out.push_str(&format!(
        "\"{year}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z\"",
        in_day / 3_600_000,
        in_day / 60_000 % 60,
        in_day / 1000 % 60,
        in_day % 1000
    ));
}

/// The members of the packet map that matter, as spans of their values.
#[derive(Default)]
struct Members {
    kind: Option<(usize, Kind)>,
    data: Option<(usize, Kind)>,
    nsp: Option<(usize, Kind)>,
    id: Option<(usize, Kind)>,
}

/// Reads one Socket.IO packet from the bytes of one binary Engine.IO message: see the
/// [module docs](super) for the format, the checks and the form of the result.
/// `max_attachments` bounds the number of binary values in `data`.
pub fn decode(input: Bytes, max_attachments: usize) -> Result<Decoded, MsgpackError> {
    let mut reader = Reader {
        input: &input,
        pos: 0,
    };
    // Checks the whole message and finds its members (of a duplicated key, the last one
    // counts, as in JavaScript). Anything but a map has no `type`.
    let mut members = Members::default();
    let Head::Map(n) = reader.head()? else {
        reader.pos = 0;
        reader.skip(1)?;
        if reader.pos != input.len() {
            return Err(MsgpackError::Malformed);
        }
        return Err(MsgpackError::UnknownType);
    };
    let mut key = String::new();
    for _ in 0..n {
        reader.key(&mut key)?;
        let start = reader.pos;
        let kind = reader.skip(2)?;
        let slot = match key.as_str() {
            "type" => &mut members.kind,
            "data" => &mut members.data,
            "nsp" => &mut members.nsp,
            "id" => &mut members.id,
            _ => continue,
        };
        *slot = Some((start, kind));
    }
    if reader.pos != input.len() {
        return Err(MsgpackError::Malformed);
    }

    // `checkPacket`: type, namespace, data, id, in this order.
    let kind = match members.kind.map(|(_, k)| as_integer(k)) {
        Some(Some(0)) => PacketType::Connect,
        Some(Some(1)) => PacketType::Disconnect,
        Some(Some(2)) => PacketType::Event,
        Some(Some(3)) => PacketType::Ack,
        Some(Some(4)) => PacketType::ConnectError,
        _ => return Err(MsgpackError::UnknownType),
    };
    let nsp = match members.nsp {
        Some((start, Kind::Str)) => {
            reader.pos = start;
            match reader.head()? {
                Head::Str(len) => input.slice(reader.pos..reader.pos + len),
                _ => return Err(MsgpackError::InvalidNamespace),
            }
        }
        _ => return Err(MsgpackError::InvalidNamespace),
    };
    let data = members.data.filter(|&(_, k)| k != Kind::Undefined);
    let data_kind = data.map(|(_, k)| k);
    let shape_ok = match kind {
        PacketType::Connect => matches!(data_kind, None | Some(Kind::Map)),
        PacketType::Disconnect => data_kind.is_none(),
        PacketType::ConnectError => matches!(data_kind, Some(Kind::Str | Kind::Map)),
        _ => data_kind == Some(Kind::Array),
    };
    if !shape_ok {
        return Err(MsgpackError::InvalidPayload);
    }
    let id = match members.id.map(|(_, k)| k) {
        None | Some(Kind::Undefined) => None,
        Some(k) => match as_integer(k) {
            Some(id) if (0..=i128::from(MAX_ACK_ID)).contains(&id) => Some(id as u64),
            _ => return Err(MsgpackError::InvalidId),
        },
    };

    let mut writer = Writer {
        reader: &mut reader,
        json: String::new(),
        attachments: Vec::new(),
        max_attachments,
        key: String::new(),
    };
    let data = match data {
        Some((start, _)) => {
            writer.reader.pos = start;
            if kind == PacketType::Event {
                check_event_name(writer.reader)?;
                writer.reader.pos = start;
            }
            writer.value(2)?;
            Some(Bytes::from(std::mem::take(&mut writer.json)))
        }
        None => None,
    };
    let attachments = writer.attachments;
    let kind = match (kind, attachments.is_empty()) {
        (PacketType::Event, false) => PacketType::BinaryEvent,
        (PacketType::Ack, false) => PacketType::BinaryAck,
        (kind, _) => kind,
    };
    Ok(Decoded {
        packet: Packet {
            kind,
            nsp,
            id,
            attachments: attachments.len(),
            data,
        },
        attachments,
    })
}

/// The rule of the JSON parser (`isPayloadValid`), which the msgpack parser lacks: an
/// EVENT's first element is a number or a string not in [`RESERVED_EVENTS`].
fn check_event_name(reader: &mut Reader<'_>) -> R<()> {
    let Head::Array(n) = reader.head()? else {
        return Err(MsgpackError::InvalidPayload);
    };
    if n == 0 {
        return Err(MsgpackError::InvalidPayload);
    }
    match reader.head()? {
        Head::Int(_) => Ok(()),
        Head::Float(f) if f.is_finite() => Ok(()),
        Head::Str(len) if !RESERVED_EVENTS.contains(&reader.str(len)?) => Ok(()),
        _ => Err(MsgpackError::InvalidPayload),
    }
}

/// `Number.isInteger` of a number member.
fn as_integer(kind: Kind) -> Option<i128> {
    match kind {
        Kind::Int(n) => Some(n),
        // Exact: |f| < 2^64 here, and integral.
        Kind::Float(f) if f.is_finite() && f.fract() == 0.0 && f.abs() < 1.8e19 => Some(f as i128),
        _ => None,
    }
}
