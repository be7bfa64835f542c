//! Broadcast operators: rooms to reach, rooms to leave out, flags, then one emit, encoded
//! once, or a request about the selected sockets of every shard. The same operator serves a
//! handler ([`Operator`], on its shard, then the others through the mesh) and any thread
//! ([`IoOperator`], through the mesh to every shard).

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use serde::Serialize;

use super::{BroadcastAckFuture, Io, RemoteSocket};
use crate::config::Parser;
use crate::id::{NsId, SocketId};
use crate::mesh::{
    Answer, ClusterEvent, Count, Gather, MeshMessage, MeshTarget, Op, Request, RequestError,
    SocketInfo,
};
use crate::shard::Shard;
use crate::socketio::{check_name, encode_event, AckGather, Broadcast, EmitError, RoomNames};

/// How long a broadcast with an acknowledgement waits when no [`BroadcastOperator::timeout`]
/// is set (Node waits without end; a bound keeps memory finite).
const DEFAULT_ACK_TIMEOUT: Duration = Duration::from_secs(3600);

/// Ack ids of broadcasts: one counter for the process, far above the ids sockets give their
/// own acknowledgements, so that both never meet in one socket's table.
static BROADCAST_ACK_IDS: AtomicU64 = AtomicU64::new(1 << 40);

/// The ack id of a new broadcast with acknowledgements.
pub(crate) fn next_broadcast_ack_id() -> u64 {
    BROADCAST_ACK_IDS.fetch_add(1, Ordering::Relaxed)
}

/// Where a broadcast goes once encoded: [`Local`] (from a handler) or [`Remote`] (from an
/// [`Io`] handle).
pub trait Reach: sealed::Sealed {
    /// The namespace's name; `None` when the broadcast can not be sent (its socket left).
    fn namespace(&self) -> Option<&str>;
    /// How many shards the broadcast reaches.
    fn shards(&self) -> usize;
    /// Sends the encoded broadcast on its way (to the other servers too unless `local`).
    fn deliver(self, broadcast: Broadcast, local: bool);
    /// Whether the server has a cluster adapter (then acknowledgements and answers wait for
    /// the other servers' part too).
    fn clustered(&self) -> bool;
    /// The handle requests go through.
    fn io(&self) -> Option<Io>;
    /// The server's Socket.IO parser.
    fn parser(&self) -> Parser;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::Local<'_> {}
    impl Sealed for super::Remote<'_> {}
}

/// A broadcast under construction: rooms (or socket ids) to reach and to leave out, flags.
#[derive(Debug)]
pub struct BroadcastOperator<R> {
    reach: R,
    rooms: RoomNames,
    except: RoomNames,
    timeout: Option<Duration>,
    volatile: bool,
    local: bool,
}

/// A broadcast from a handler: it reaches the sockets of every shard.
pub type Operator<'a> = BroadcastOperator<Local<'a>>;
/// A broadcast from an [`Io`] handle.
pub type IoOperator<'a> = BroadcastOperator<Remote<'a>>;

impl<R: Reach> BroadcastOperator<R> {
    pub(crate) fn new(reach: R) -> Self {
        BroadcastOperator {
            reach,
            rooms: RoomNames::new(),
            except: RoomNames::new(),
            timeout: None,
            volatile: false,
            local: false,
        }
    }

    /// Adds a room (or a socket id) to reach.
    pub fn to(mut self, room: &str) -> Self {
        self.rooms.push(room.into());
        self
    }

    /// The same as [`BroadcastOperator::to`] (Node's `in`).
    pub fn in_(self, room: &str) -> Self {
        self.to(room)
    }

    /// Leaves out the members of a room (or a socket id).
    pub fn except(mut self, room: &str) -> Self {
        self.except.push(room.into());
        self
    }

    /// How long [`BroadcastOperator::emit_with_ack`] waits for the answers.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Drops the event for clients whose transport can not take it now (a polling client
    /// with no request waiting, a WebSocket with bytes still queued), as Node's `volatile`.
    pub fn volatile(mut self) -> Self {
        self.volatile = true;
        self
    }

    /// Whether to compress the event (Node's `compress`). Accepted for compatibility: no
    /// transport compresses yet, so it changes nothing.
    pub fn compress(self, _compress: bool) -> Self {
        self
    }

    /// Only this server's sockets, on every shard (Node's `local`): nothing goes to the other
    /// servers of a cluster. Without a cluster adapter it changes nothing.
    pub fn local(mut self) -> Self {
        self.local = true;
        self
    }

    /// Whether the other servers take part.
    fn clustered(&self) -> bool {
        !self.local && self.reach.clustered()
    }

    fn broadcast(&self, event: &str, args: &impl SerializeArgs) -> Result<Broadcast, EmitError> {
        check_name(event)?;
        let nsp = self.reach.namespace().ok_or(EmitError::Disconnected)?;
        let mut b = Broadcast::new(
            nsp.into(),
            self.rooms.clone(),
            self.except.clone(),
            args.encode(self.reach.parser(), nsp, event, None)?,
        );
        b.volatile = self.volatile;
        Ok(b)
    }

    /// Sends the event to every selected socket on every shard (and every server of a
    /// cluster); it is encoded once.
    pub fn emit<T: Serialize + ?Sized>(self, event: &str, args: &T) -> Result<(), EmitError> {
        let broadcast = self.broadcast(event, &Ref(args))?;
        self.reach.deliver(broadcast, self.local);
        Ok(())
    }

    /// Sends the event to every selected socket on every shard with an acknowledgement, and
    /// returns every answer to await (Node's `timeout(t).emitWithAck`): the list of answers,
    /// or an error naming how many did not answer within the timeout (or left first).
    pub fn emit_with_ack<T: Serialize + ?Sized>(
        self,
        event: &str,
        args: &T,
    ) -> Result<BroadcastAckFuture, EmitError> {
        check_name(event)?;
        let nsp = self.reach.namespace().ok_or(EmitError::Disconnected)?;
        let id = next_broadcast_ack_id();
        let packets = encode_event(self.reach.parser(), nsp, event, Some(id), args)?;
        let timeout = self.timeout.unwrap_or(DEFAULT_ACK_TIMEOUT);
        // The other servers of a cluster are one more part, until the adapter knows how many.
        let parts = self.reach.shards() + usize::from(self.clustered());
        let gather = AckGather::new(parts, id, timeout);
        let mut b = Broadcast::new(nsp.into(), self.rooms, self.except, packets);
        b.ack = Some(gather.clone());
        b.volatile = self.volatile;
        self.reach.deliver(b, self.local);
        Ok(BroadcastAckFuture::new(gather))
    }

    /// Sends a request about the selected sockets to every shard, and to the other servers
    /// of a cluster (which answer when `answered`).
    fn request<T>(
        self,
        answered: bool,
        op: impl FnOnce(Arc<Gather<T>>) -> Op,
    ) -> (Answer<T>, Option<Io>) {
        let clustered = self.clustered();
        let io = self.reach.io();
        let (Some(io), Some(nsp)) = (io, self.reach.namespace()) else {
            // Nothing to ask: an empty answer.
            return (Answer::new(Gather::new(0, false)), None);
        };
        let shards = io.post.shards();
        let gather = Gather::new(shards, clustered && answered);
        let answer = Answer::new(gather.clone());
        let request = Arc::new(Request {
            nsp: nsp.into(),
            rooms: self.rooms,
            except: self.except,
            op: op(gather),
        });
        for shard in 0..shards {
            io.post.post(shard, MeshMessage::Request(request.clone()));
        }
        if clustered {
            if let Some(cluster) = io.post.cluster() {
                cluster.send(ClusterEvent::Request(request));
            }
        }
        (answer, Some(io))
    }

    /// The selected sockets of every shard and every server of a cluster (Node's
    /// `fetchSockets`): each with its id, handshake, rooms and data, and able to emit, join,
    /// leave and disconnect. The request is sent now; the future (`'static`, `Send`) can be
    /// awaited in any task. It fails only when another server did not answer in time.
    pub fn fetch_sockets(self) -> FetchSockets {
        let (answer, io) = self.request(true, Op::Fetch);
        FetchSockets { answer, io }
    }

    /// Makes the selected sockets of every shard join `room` (Node's `socketsJoin`); the
    /// answer is how many there were (await it, or drop it: the request is sent anyway).
    pub fn sockets_join(self, room: &str) -> Count {
        self.count(|g| Op::Join(room.into(), g))
    }

    /// Makes the selected sockets of every shard leave `room` (Node's `socketsLeave`).
    pub fn sockets_leave(self, room: &str) -> Count {
        self.count(|g| Op::Leave(room.into(), g))
    }

    /// Disconnects the selected sockets of every shard, and with `close` their connections
    /// (Node's `disconnectSockets`).
    pub fn disconnect_sockets(self, close: bool) -> Count {
        self.count(|g| Op::Disconnect(close, g))
    }

    /// A request answered by a count per shard, summed.
    fn count(self, op: impl FnOnce(Arc<Gather<usize>>) -> Op) -> Count {
        Count::new(self.request(false, op).0)
    }

    /// The rooms of the namespace on every shard and every server of a cluster, each once,
    /// sorted (Node's `allRooms`; socket ids are not listed). The request is sent now.
    pub fn all_rooms(self) -> AllRooms {
        AllRooms(self.request(true, Op::Rooms).0)
    }
}

/// The answer of [`BroadcastOperator::fetch_sockets`].
#[derive(Debug)]
#[must_use = "the request is sent; await it to see the sockets"]
pub struct FetchSockets {
    answer: Answer<SocketInfo>,
    io: Option<Io>,
}

impl Future for FetchSockets {
    type Output = Result<Vec<RemoteSocket>, RequestError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let infos = ready!(Pin::new(&mut self.answer).poll(cx))?;
        let Some(io) = &self.io else {
            return Poll::Ready(Ok(Vec::new()));
        };
        let sockets = infos
            .into_iter()
            .map(|info| RemoteSocket::new(info, io.clone()));
        Poll::Ready(Ok(sockets.collect()))
    }
}

/// The answer of [`BroadcastOperator::all_rooms`].
#[derive(Debug)]
#[must_use = "the request is sent; await it to see the rooms"]
pub struct AllRooms(Answer<String>);

impl Future for AllRooms {
    type Output = Result<Vec<String>, RequestError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut rooms = ready!(Pin::new(&mut self.0).poll(cx))?;
        rooms.sort();
        rooms.dedup();
        Poll::Ready(Ok(rooms))
    }
}

/// Arguments to encode (lets `broadcast` take any `Serialize`, sized or not).
trait SerializeArgs {
    fn encode(
        &self,
        parser: Parser,
        nsp: &str,
        event: &str,
        id: Option<u64>,
    ) -> Result<crate::socketio::Encoded, EmitError>;
}

struct Ref<'a, T: ?Sized>(&'a T);

impl<T: Serialize + ?Sized> SerializeArgs for Ref<'_, T> {
    fn encode(
        &self,
        parser: Parser,
        nsp: &str,
        event: &str,
        id: Option<u64>,
    ) -> Result<crate::socketio::Encoded, EmitError> {
        Ok(encode_event(parser, nsp, event, id, self.0)?)
    }
}

/// The reach of a handler's broadcast: its shard's sockets, then the other shards'.
#[derive(Debug)]
pub struct Local<'a> {
    pub(crate) shard: &'a mut Shard,
    pub(crate) ns: Option<NsId>,
    /// The sender, left out (`socket.broadcast`).
    pub(crate) except_socket: Option<SocketId>,
}

impl Reach for Local<'_> {
    fn namespace(&self) -> Option<&str> {
        self.ns.map(|ns| self.shard.sio.name(ns))
    }

    fn shards(&self) -> usize {
        self.shard.count()
    }

    fn deliver(self, broadcast: Broadcast, local: bool) {
        if self.ns.is_none() {
            // Not sent: an acknowledged one is answered by no shard, nor by the cluster.
            if let Some(g) = &broadcast.ack {
                (0..self.shards()).for_each(|_| g.sent(0));
                if self.clustered() && !local {
                    // The cluster's part stood for no server.
                    broadcast.cluster_servers(0);
                }
            }
            return;
        }
        let shard = self.shard;
        shard.deliver(&broadcast, self.except_socket);
        let broadcast = Arc::new(broadcast);
        let message = MeshMessage::Broadcast(broadcast.clone());
        shard.post_mesh(MeshTarget::Others, message);
        if local {
            return;
        }
        if let Some(cluster) = shard.post.as_ref().and_then(|p| p.cluster()) {
            let sender = self.except_socket.and_then(|sk| shard.sio.socket(sk));
            let sender = sender.map(|s| Box::from(&*s.id));
            cluster.send(ClusterEvent::Broadcast { broadcast, sender });
        }
    }

    fn clustered(&self) -> bool {
        self.shard
            .post
            .as_ref()
            .is_some_and(|p| p.cluster().is_some())
    }

    fn io(&self) -> Option<Io> {
        self.shard.post.clone().map(Io::new)
    }

    fn parser(&self) -> Parser {
        self.shard.app.config.parser
    }
}

/// The reach of an [`Io`] handle's broadcast: every shard, through the mesh.
#[derive(Debug)]
pub struct Remote<'a> {
    pub(crate) io: &'a Io,
    pub(crate) nsp: Box<str>,
}

impl Reach for Remote<'_> {
    fn namespace(&self) -> Option<&str> {
        Some(&self.nsp)
    }

    fn shards(&self) -> usize {
        self.io.post.shards()
    }

    fn deliver(self, broadcast: Broadcast, local: bool) {
        let broadcast = Arc::new(broadcast);
        let message = MeshMessage::Broadcast(broadcast.clone());
        for shard in 0..self.io.post.shards() {
            self.io.post.post(shard, message.clone());
        }
        if let Some(cluster) = self.io.post.cluster().filter(|_| !local) {
            cluster.send(ClusterEvent::Broadcast {
                broadcast,
                sender: None,
            });
        }
    }

    fn clustered(&self) -> bool {
        self.io.post.cluster().is_some()
    }

    fn io(&self) -> Option<Io> {
        Some(self.io.clone())
    }

    fn parser(&self) -> Parser {
        self.io.post.parser()
    }
}
