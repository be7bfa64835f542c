//! Broadcasts: one encoded packet to every socket selected by rooms, on this shard.
//!
//! The packets are shared: every recipient gets a clone of the same `Bytes` (a reference
//! count, no copy, no allocation). A socket in several selected rooms gets it once: a stamp
//! per broadcast marks the sockets already reached (and those left out).

use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use smallvec::SmallVec;

use super::rooms::RoomKey;
use super::{read_encoded, with_namespace, Args, Encoded, SocketIo};
use crate::engine::Engine;
use crate::id::{NsId, SocketId};

/// Room names of a broadcast.
pub type RoomNames = SmallVec<[Box<str>; 2]>;

/// An event for the sockets of one namespace, encoded once; the same value (behind an `Arc`)
/// reaches every shard.
#[derive(Debug)]
pub struct Broadcast {
    /// The namespace.
    pub(crate) nsp: Box<str>,
    /// Rooms (or socket ids) to reach; empty for the whole namespace.
    pub(crate) rooms: RoomNames,
    /// Rooms (or socket ids) to leave out.
    pub(crate) except: RoomNames,
    /// The packets: the text packet, then its binary attachments.
    pub(crate) packets: Encoded,
    /// For a broadcast with an acknowledgement: where the answers go.
    pub(crate) ack: Option<Arc<AckGather>>,
    /// Dropped for clients whose transport can not take it now.
    pub(crate) volatile: bool,
}

impl Broadcast {
    /// The namespace (or dynamic namespace).
    pub fn nsp(&self) -> &str {
        &self.nsp
    }

    /// The rooms (or socket ids) it reaches; empty for the whole namespace.
    pub fn rooms(&self) -> &[Box<str>] {
        &self.rooms
    }

    /// The rooms (or socket ids) it leaves out.
    pub fn except(&self) -> &[Box<str>] {
        &self.except
    }

    /// Whether it is `volatile`.
    pub fn is_volatile(&self) -> bool {
        self.volatile
    }

    /// For a broadcast with acknowledgements, how long the clients have to answer.
    pub fn ack_timeout(&self) -> Option<Duration> {
        self.ack.as_ref().map(|g| g.timeout)
    }

    /// The event and its arguments (binary ones as attachments), read back from the encoded
    /// packet; `None` for a packet that is not an event.
    pub fn event(&self) -> Option<(String, Args)> {
        // The packet names the broadcast's namespace, which may be a dynamic namespace's
        // pattern or key (`^/dyn-\d+$`, with any character): read it as `/`'s.
        let renamed = (&*self.nsp != "/").then(|| with_namespace(&self.packets, &self.nsp, "/"));
        let (packet, attachments) = read_encoded(renamed.as_ref().unwrap_or(&self.packets))?;
        let data = packet.data?;
        let name: String = Args::new(Some(data.clone()), false, Vec::new())
            .arg(0)
            .ok()?;
        Some((name, Args::new(Some(data), true, attachments)))
    }

    /// In a cluster, `servers` other servers received this broadcast with acknowledgements:
    /// each says how many clients it reached ([`Broadcast::cluster_client_count`]).
    pub fn cluster_servers(&self, servers: usize) {
        if let Some(g) = &self.ack {
            g.update(|s| {
                s.shards = (s.shards + servers).saturating_sub(1);
            });
        }
    }

    /// Another server reached `count` clients.
    pub fn cluster_client_count(&self, count: usize) {
        if let Some(g) = &self.ack {
            g.sent(count);
        }
    }

    /// A client of another server answered.
    pub fn cluster_ack(&self, args: Args) {
        if let Some(g) = &self.ack {
            g.answer(args);
        }
    }

    /// The acknowledgements' time is up: whatever has not come is missing (nothing changes
    /// when everything came).
    pub fn cluster_expire(&self) {
        if let Some(g) = &self.ack {
            g.update(|s| {
                if s.done() {
                    return;
                }
                s.shards = 0;
                s.missing = s.expected.saturating_sub(s.answers.len());
                s.expired = true;
            });
        }
    }

    /// A broadcast of `packets` in namespace `nsp`.
    pub(crate) fn new(
        nsp: Box<str>,
        rooms: RoomNames,
        except: RoomNames,
        packets: Encoded,
    ) -> Self {
        Broadcast {
            nsp,
            rooms,
            except,
            packets,
            ack: None,
            volatile: false,
        }
    }
}

/// A broadcast's recipients, resolved on this shard.
#[derive(Debug, Default)]
struct Targets {
    /// Rooms to reach.
    rooms: SmallVec<[RoomKey; 2]>,
    /// Single sockets named by id.
    sockets: SmallVec<[SocketId; 1]>,
    /// Whether any target was named at all (`to(...)`); false means the whole namespace.
    named: bool,
    except_rooms: SmallVec<[RoomKey; 2]>,
    except_sockets: SmallVec<[SocketId; 1]>,
}

impl<A> SocketIo<A> {
    /// Delivers a broadcast to this shard's sockets of namespace `ns`, leaving out
    /// `except_socket` (the sender of `socket.broadcast`), as `packets` (the broadcast's
    /// own, or those encoded again for a child of the dynamic namespace it names).
    /// The recipients of an acknowledged broadcast are added to `recipients`.
    pub(crate) fn broadcast(
        &mut self,
        engine: &mut Engine,
        ns: NsId,
        b: &Broadcast,
        packets: &Encoded,
        except_socket: Option<SocketId>,
        recipients: Option<&mut Vec<SocketId>>,
    ) {
        let t = self.targets(ns, &b.rooms, &b.except, except_socket);
        let mut recipients = recipients.filter(|_| b.ack.is_some());
        self.fan_out(ns, &t, |sk, s| {
            if b.volatile && !engine.writable(s.session) {
                return;
            }
            for p in packets {
                engine.send(s.session, p.clone());
            }
            if let Some(out) = recipients.as_deref_mut() {
                out.push(sk);
            }
        });
    }

    /// The sockets of namespace `ns` that rooms select on this shard (leaving out
    /// `except_socket`).
    pub(crate) fn select(
        &mut self,
        ns: NsId,
        rooms: &[Box<str>],
        except: &[Box<str>],
        except_socket: Option<SocketId>,
    ) -> Vec<SocketId> {
        let t = self.targets(ns, rooms, except, except_socket);
        let mut out = Vec::new();
        self.fan_out(ns, &t, |sk, _| out.push(sk));
        out
    }

    fn targets(
        &self,
        ns: NsId,
        rooms: &[Box<str>],
        except: &[Box<str>],
        except_socket: Option<SocketId>,
    ) -> Targets {
        let mut t = Targets {
            named: !rooms.is_empty(),
            ..Targets::default()
        };
        for room in rooms {
            self.resolve(ns, room, &mut t.rooms, &mut t.sockets);
        }
        for room in except {
            self.resolve(ns, room, &mut t.except_rooms, &mut t.except_sockets);
        }
        t.except_sockets.extend(except_socket);
        t
    }

    /// Calls `visit` for every socket the targets select, each once.
    fn fan_out(
        &mut self,
        ns: NsId,
        t: &Targets,
        mut visit: impl FnMut(SocketId, &super::SocketState<A>),
    ) {
        self.stamp = self.stamp.wrapping_add(1);
        let stamp = self.stamp;
        let members = &self.members[ns.index()];
        let sockets = &mut self.sockets;
        let mut mark = |sk: SocketId| {
            if let Some(s) = sockets.get_mut(sk) {
                s.stamp = stamp;
            }
        };
        for room in t.except_rooms.iter().filter_map(|&key| members.room(key)) {
            room.members.iter().for_each(|&sk| mark(sk));
        }
        t.except_sockets.iter().for_each(|&sk| mark(sk));
        let mut deliver = |sk: SocketId| {
            let Some(s) = sockets.get_mut(sk) else {
                return;
            };
            if s.stamp == stamp || !s.connected {
                return;
            }
            s.stamp = stamp;
            visit(sk, s);
        };
        if !t.named {
            members.all.iter().for_each(|&sk| deliver(sk));
            return;
        }
        for room in t.rooms.iter().filter_map(|&key| members.room(key)) {
            room.members.iter().for_each(|&sk| deliver(sk));
        }
        t.sockets.iter().for_each(|&sk| deliver(sk));
    }
}

/// A broadcast's acknowledgements, collected from every recipient on every shard.
#[derive(Debug)]
pub struct AckGather {
    state: Mutex<AckState>,
    /// The ack id every recipient gets, and how long each shard waits.
    pub(crate) id: u64,
    pub(crate) timeout: Duration,
}

struct AckState {
    /// Shards (and other servers) that have not said how many sockets they sent to.
    shards: usize,
    expected: usize,
    answers: Vec<Args>,
    missing: usize,
    /// The cluster's time ran out: done, whatever comes later.
    expired: bool,
    waker: Option<Waker>,
    /// For a broadcast another server asked for: where the count and answers go instead.
    relay: Option<Box<dyn AckRelay>>,
}

impl std::fmt::Debug for AckState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AckState")
            .field("shards", &self.shards)
            .field("expected", &self.expected)
            .field("answers", &self.answers.len())
            .field("missing", &self.missing)
            .finish_non_exhaustive()
    }
}

/// Where the acknowledgements of a broadcast asked for by another server go: that server
/// hears how many clients this one reached, then each answer.
pub(crate) trait AckRelay: Send {
    /// Every shard has sent it: to `count` clients.
    fn client_count(&mut self, count: usize);
    /// A client answered.
    fn ack(&mut self, args: Args);
}

impl AckGather {
    /// A gather for a broadcast reaching `shards` shards.
    pub(crate) fn new(shards: usize, id: u64, timeout: Duration) -> Arc<AckGather> {
        Self::make(shards, id, timeout, None)
    }

    /// A gather that passes on the count and every answer (for another server).
    pub(crate) fn relay(
        shards: usize,
        id: u64,
        timeout: Duration,
        relay: Box<dyn AckRelay>,
    ) -> Arc<AckGather> {
        Self::make(shards, id, timeout, Some(relay))
    }

    fn make(
        shards: usize,
        id: u64,
        timeout: Duration,
        relay: Option<Box<dyn AckRelay>>,
    ) -> Arc<AckGather> {
        Arc::new(AckGather {
            state: Mutex::new(AckState {
                shards,
                expected: 0,
                answers: Vec::new(),
                missing: 0,
                expired: false,
                waker: None,
                relay,
            }),
            id,
            timeout,
        })
    }

    fn update(&self, f: impl FnOnce(&mut AckState)) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let before = state.shards;
        f(&mut state);
        let s = &mut *state;
        if let Some(relay) = &mut s.relay {
            for args in s.answers.drain(..) {
                relay.ack(args);
            }
            if before > 0 && s.shards == 0 {
                relay.client_count(s.expected);
            }
            return;
        }
        if s.done() {
            if let Some(w) = s.waker.take() {
                w.wake();
            }
        }
    }

    /// A shard sent the broadcast to `n` sockets.
    pub(crate) fn sent(&self, n: usize) {
        self.update(|s| {
            if s.expired {
                return;
            }
            s.shards = s.shards.saturating_sub(1);
            s.expected += n;
        });
    }

    /// A socket answered.
    pub(crate) fn answer(&self, args: Args) {
        self.update(|s| {
            if !s.expired {
                s.answers.push(args);
            }
        });
    }

    /// A socket did not answer in time, or left.
    pub(crate) fn miss(&self) {
        // Once the cluster's time ran out, every silent recipient is counted already.
        self.update(|s| {
            if !s.expired {
                s.missing += 1;
            }
        });
    }

    pub(crate) fn poll_done(
        &self,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Vec<Args>, BroadcastAckError>> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if !state.done() {
            state.waker = Some(cx.waker().clone());
            return Poll::Pending;
        }
        let answers = std::mem::take(&mut state.answers);
        Poll::Ready(match (state.missing, state.expired) {
            (0, false) => Ok(answers),
            (missing, _) => Err(BroadcastAckError { answers, missing }),
        })
    }
}

impl AckState {
    fn done(&self) -> bool {
        self.expired || (self.shards == 0 && self.answers.len() + self.missing >= self.expected)
    }
}

/// Some recipients of a broadcast did not answer in time (or left first): the answers that
/// came, and how many did not (in a cluster, a server that never said how many clients it
/// reached adds none to `missing`: the error alone tells).
#[derive(Debug, thiserror::Error)]
#[error("operation has timed out ({missing} client(s) did not answer)")]
pub struct BroadcastAckError {
    /// The answers that came, in no particular order.
    pub answers: Vec<Args>,
    /// How many recipients did not answer.
    pub missing: usize,
}
