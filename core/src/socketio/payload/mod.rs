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
//!
//! # Layout
//!
//! * `binary`: [`Binary`] and the thread-local hand-offs through which serde
//!   impls and the packet writer/reader exchange attachments;
//! * `write`: the packet writer ([`write_event`], [`write_ack`], [`Spread`]),
//!   whose heads are written by [`sio::write_packet`](crate::wire::sio::write_packet);
//! * `args`: [`Args`], its deserializer, and the re-emission of received
//!   arguments with their attachments.

mod args;
mod binary;
mod write;

pub use args::Args;
pub use binary::Binary;
pub(crate) use write::args_value;
pub use write::{write_ack, write_event, Spread};

#[cfg(test)]
mod tests;
