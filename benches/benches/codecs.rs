//! The wire codecs and the payload serde: what every received or sent byte goes through.
//!
//! - `http_head`: `wire::http::HeadDecoder` on a polling GET and a WebSocket upgrade;
//! - `ws_decode`: `wire::ws::Decoder` on masked text and binary frames of 64 B, 1 KiB, 64 KiB
//!   (unmasking, and UTF-8 validation for text);
//! - `ws_encode`: `write_frame_header`, `encode_frame` (a new buffer) and `write_frame` (a
//!   reused buffer) of server frames;
//! - `eio`: `wire::eio::decode_text`, `decode_payload` and `write_base64_packet`;
//! - `sio`: `payload::write_event`, `wire::sio::decode` and `payload::Args::parse`, with and
//!   without a binary attachment.

use std::hint::black_box;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use corelay_benches::fixtures;
use corelay_core::payload::{self, Args, Binary};
use corelay_core::wire::http::{self, HeadLimits};
use corelay_core::wire::ws::{self, OpCode};
use corelay_core::wire::{eio, sio, Decode};
use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use serde::{Deserialize, Serialize};

/// Frame payload sizes: small, medium, large.
const SIZES: [(usize, &str); 3] = [(64, "64B"), (1024, "1KiB"), (64 * 1024, "64KiB")];

fn http_head(c: &mut Criterion) {
    let mut g = c.benchmark_group("http_head");
    let limits = HeadLimits::default();
    for (name, head) in [
        ("polling_get", fixtures::POLLING_GET),
        ("ws_upgrade", fixtures::WS_UPGRADE),
    ] {
        let mut decoder = http::HeadDecoder::new(limits);
        let mut check = BytesMut::from(head.as_bytes());
        let parsed = decoder
            .decode(&mut check)
            .expect("valid")
            .expect("complete");
        assert_eq!(parsed.raw.len(), head.len());
        assert!(check.is_empty());
        assert_eq!(parsed.head.upgrade_websocket, name == "ws_upgrade");
        g.throughput(Throughput::Bytes(head.len() as u64));
        g.bench_function(name, |b| {
            // The head is copied into a fresh read buffer before each decode (the decoder
            // splits the head off it), outside the timing.
            b.iter_batched_ref(
                || BytesMut::from(head.as_bytes()),
                |buf| decoder.decode(buf),
                BatchSize::SmallInput,
            )
        });
    }
    g.finish();
}

fn ws_decode(c: &mut Criterion) {
    let mut g = c.benchmark_group("ws_decode");
    for (opcode, kind) in [(OpCode::Text, "text"), (OpCode::Binary, "binary")] {
        for (len, size) in SIZES {
            let payload = match opcode {
                OpCode::Text => fixtures::ascii(len),
                _ => fixtures::binary(len),
            };
            let frame = fixtures::client_frame(opcode, &payload);
            let mut decoder = ws::Decoder::new(1 << 20);
            let mut check = BytesMut::from(&frame[..]);
            let message = decoder
                .decode(&mut check)
                .expect("valid")
                .expect("complete");
            assert!(matches!(&message,
                ws::Message::Text(p) | ws::Message::Binary(p) if p[..] == payload[..]));
            assert!(check.is_empty());

            g.throughput(Throughput::Bytes(frame.len() as u64));
            g.bench_function(BenchmarkId::new(kind, size), |b| {
                // The frame is copied into a fresh read buffer before each decode (unmasking
                // is in place), outside the timing.
                b.iter_batched_ref(
                    || BytesMut::from(&frame[..]),
                    |buf| decoder.decode(buf),
                    BatchSize::SmallInput,
                )
            });
        }
    }
    g.finish();
}

fn ws_encode(c: &mut Criterion) {
    let mut g = c.benchmark_group("ws_encode");
    let mut out = BytesMut::with_capacity(16);
    for (len, size) in SIZES {
        g.throughput(Throughput::Elements(1));
        g.bench_function(BenchmarkId::new("write_frame_header", size), |b| {
            b.iter(|| {
                out.clear();
                ws::write_frame_header(&mut out, OpCode::Text, true, black_box(len));
            })
        });
    }
    for (len, size) in SIZES {
        let payload = fixtures::ascii(len);
        g.throughput(Throughput::Bytes(len as u64));
        // A new buffer per frame: at 64 KiB the time depends on whether the allocator hands
        // back warm memory or fresh pages (glibc trims the heap top past 128 KiB).
        g.bench_function(BenchmarkId::new("encode_frame", size), |b| {
            b.iter(|| ws::encode_frame(OpCode::Text, black_box(&payload)))
        });
        // The same frame into a reused buffer: header and copy only.
        let mut out = BytesMut::with_capacity(ws::header_len(len) + len);
        g.bench_function(BenchmarkId::new("write_frame", size), |b| {
            b.iter(|| {
                out.clear();
                ws::write_frame(&mut out, OpCode::Text, black_box(&payload));
            })
        });
    }
    g.finish();
}

fn eio(c: &mut Criterion) {
    let mut g = c.benchmark_group("eio");

    let mut message = b"4".to_vec();
    message.extend_from_slice(&fixtures::event_text());
    let message = Bytes::from(message);
    assert!(matches!(
        eio::decode_text(message.clone()),
        Ok(eio::Packet::Message(_))
    ));
    g.throughput(Throughput::Bytes(message.len() as u64));
    g.bench_function("decode_text/message", |b| {
        b.iter(|| eio::decode_text(black_box(message.clone())))
    });

    let raw = fixtures::binary(1024);
    let mut base64 = BytesMut::new();
    eio::write_base64_packet(&mut base64, &raw);
    let base64 = base64.freeze();
    assert!(
        matches!(eio::decode_text(base64.clone()), Ok(eio::Packet::BinaryMessage(b)) if b == raw)
    );
    g.throughput(Throughput::Bytes(base64.len() as u64));
    g.bench_function("decode_text/base64_1KiB", |b| {
        b.iter(|| eio::decode_text(black_box(base64.clone())))
    });

    let body = fixtures::polling_body(10);
    let mut packets = Vec::with_capacity(10);
    eio::decode_payload(body.clone(), 1000, &mut packets).expect("valid");
    assert_eq!(packets.len(), 10);
    g.throughput(Throughput::Bytes(body.len() as u64));
    g.bench_function("decode_payload/10_messages", |b| {
        b.iter(|| {
            packets.clear();
            eio::decode_payload(black_box(body.clone()), 1000, &mut packets)
        })
    });

    let mut out = BytesMut::with_capacity(2048);
    g.throughput(Throughput::Bytes(raw.len() as u64));
    g.bench_function("write_base64_packet/1KiB", |b| {
        b.iter(|| {
            out.clear();
            eio::write_base64_packet(&mut out, black_box(&raw));
        })
    });
    g.finish();
}

/// The object of a chat event.
#[derive(Debug, Serialize, Deserialize)]
struct ChatMessage {
    user: String,
    room: String,
    text: String,
    ts: u64,
}

/// The object before the attachment of an upload event.
#[derive(Debug, Serialize, Deserialize)]
struct UploadMeta {
    name: String,
    size: u64,
}

fn sio(c: &mut Criterion) {
    let mut g = c.benchmark_group("sio");
    let chat = ChatMessage {
        user: "ada".into(),
        room: "general".into(),
        text: "hello everyone, how is the benchmark going?".into(),
        ts: 1_718_000_000_000,
    };
    let meta = UploadMeta {
        name: "avatar.png".into(),
        size: 1024,
    };
    let attachment = Bytes::from(fixtures::binary(1024));
    let mut out = BytesMut::with_capacity(512);

    // Encode.
    payload::write_event(&mut out, "/", None, "chat message", &(&chat,)).expect("serializable");
    assert_eq!(out[..], fixtures::event_text()[..]);
    g.throughput(Throughput::Bytes(out.len() as u64));
    g.bench_function("write_event/text", |b| {
        b.iter(|| {
            out.clear();
            payload::write_event(&mut out, "/", None, "chat message", black_box(&(&chat,)))
        })
    });

    out.clear();
    let binary = (&meta, Binary(attachment.clone()));
    let attachments =
        payload::write_event(&mut out, "/", None, "upload", &binary).expect("serializable");
    assert_eq!(out[..], fixtures::binary_event_text()[..]);
    assert_eq!(attachments.len(), 1);
    assert_eq!(attachments[0], attachment);
    // The attachment is kept by reference, not copied: the throughput counts the text.
    g.throughput(Throughput::Bytes(out.len() as u64));
    g.bench_function("write_event/binary_1KiB", |b| {
        b.iter(|| {
            out.clear();
            payload::write_event(&mut out, "/", None, "upload", black_box(&binary))
        })
    });

    // Re-emitting received arguments as they are (what a relay or the broadcast bench does).
    let received = sio::decode(fixtures::event_text(), 10).expect("valid");
    let args = Args::new(received.data.clone(), true, Vec::new());
    out.clear();
    payload::write_event(&mut out, "/", None, "chat message", &args).expect("serializable");
    assert_eq!(out[..], fixtures::event_text()[..]);
    g.throughput(Throughput::Bytes(out.len() as u64));
    g.bench_function("write_event/received_args", |b| {
        b.iter(|| {
            out.clear();
            payload::write_event(&mut out, "/", None, "chat message", black_box(&args))
        })
    });

    // Decode.
    for (name, text, attachments) in [
        ("decode/text", fixtures::event_text(), 0),
        ("decode/binary", fixtures::binary_event_text(), 1),
    ] {
        let packet = sio::decode(text.clone(), 10).expect("valid");
        assert_eq!(packet.attachments, attachments);
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.bench_function(name, |b| {
            b.iter(|| sio::decode(black_box(text.clone()), 10))
        });
    }

    // Arguments into the handler's types.
    let data = sio::decode(fixtures::event_text(), 10).expect("valid").data;
    let text_args = Args::new(data.clone(), true, Vec::new());
    let (parsed,): (ChatMessage,) = text_args.parse().expect("fits");
    assert_eq!(parsed.text, chat.text);
    g.throughput(Throughput::Bytes(data.map_or(0, |d| d.len()) as u64));
    g.bench_function("args_parse/text", |b| {
        b.iter(|| black_box(&text_args).parse::<(ChatMessage,)>())
    });

    let data = sio::decode(fixtures::binary_event_text(), 10)
        .expect("valid")
        .data;
    let binary_args = Args::new(data.clone(), true, vec![attachment.clone()]);
    let (_, bin): (UploadMeta, Binary) = binary_args.parse().expect("fits");
    assert_eq!(bin.0, attachment);
    g.throughput(Throughput::Bytes(data.map_or(0, |d| d.len()) as u64));
    g.bench_function("args_parse/binary_1KiB", |b| {
        b.iter(|| black_box(&binary_args).parse::<(UploadMeta, Binary)>())
    });
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = codecs;
    config = config();
    targets = http_head, ws_decode, ws_encode, eio, sio
}
criterion_main!(codecs);
