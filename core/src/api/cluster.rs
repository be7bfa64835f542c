//! What a cluster adapter does to this server's shards on another server's behalf.
//!
//! An adapter (the Redis one of `corelay-redis`, or any other) hears of this server's
//! broadcasts and requests through [`ClusterPort`](crate::mesh::ClusterPort) and tells the
//! other servers; what they send, it hands to [`Inbound`]: a broadcast is encoded here once
//! and every shard gets the same bytes, a request goes to every shard, and the answers come
//! back to the adapter as [`ClusterEvent`]s named by the adapter's token. Nothing here is
//! published again: only a shard's own broadcasts and requests reach the adapter.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use crate::mesh::{ClusterEvent, Gather, MeshMessage, MeshPost, Op, Request, SocketInfo};
use crate::socketio::{
    check_name, encode_event, AckGather, AckRelay, Args, Broadcast, EmitError, RoomNames,
};

use super::operator::next_broadcast_ack_id;

/// The sockets an operation from another server selects: namespace, rooms, rooms left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// The namespace.
    pub nsp: String,
    /// Rooms (or socket ids) to reach; empty for the whole namespace.
    pub rooms: Vec<String>,
    /// Rooms (or socket ids) to leave out.
    pub except: Vec<String>,
}

impl Selection {
    /// Every socket of `nsp`.
    pub fn all(nsp: impl Into<String>) -> Self {
        Selection {
            nsp: nsp.into(),
            ..Selection::default()
        }
    }

    fn names(rooms: &[String]) -> RoomNames {
        rooms.iter().map(|r| r.as_str().into()).collect()
    }

    fn request(&self, op: Op) -> Arc<Request> {
        Arc::new(Request {
            nsp: self.nsp.as_str().into(),
            rooms: Self::names(&self.rooms),
            except: Self::names(&self.except),
            op,
        })
    }
}

/// Acts on this server's shards for a cluster adapter. Cheap to clone, `Send + Sync`.
#[derive(Clone)]
pub struct Inbound {
    post: Arc<dyn MeshPost>,
}

impl std::fmt::Debug for Inbound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inbound")
            .field("shards", &self.post.shards())
            .finish()
    }
}

impl Inbound {
    /// Acts through `post`, and answers through its [`cluster`](MeshPost::cluster) port.
    pub fn new(post: Arc<dyn MeshPost>) -> Self {
        Inbound { post }
    }

    /// The number of shards.
    pub fn shards(&self) -> usize {
        self.post.shards()
    }

    fn everywhere(&self, message: MeshMessage) {
        for shard in 0..self.post.shards() {
            self.post.post(shard, message.clone());
        }
    }

    fn answer(post: &Arc<dyn MeshPost>, event: ClusterEvent) {
        if let Some(cluster) = post.cluster() {
            cluster.send(event);
        }
    }

    fn encode<T: Serialize + ?Sized>(
        &self,
        to: &Selection,
        event: &str,
        id: Option<u64>,
        args: &T,
    ) -> Result<Broadcast, EmitError> {
        check_name(event)?;
        let packets = encode_event(self.post.parser(), &to.nsp, event, id, args)?;
        let rooms = Selection::names(&to.rooms);
        let except = Selection::names(&to.except);
        Ok(Broadcast::new(
            to.nsp.as_str().into(),
            rooms,
            except,
            packets,
        ))
    }

    /// Another server's broadcast: `event` with `args` (a tuple is several arguments, as in
    /// `emit`) to the selected sockets of every shard, encoded once.
    pub fn broadcast<T: Serialize + ?Sized>(
        &self,
        to: &Selection,
        volatile: bool,
        event: &str,
        args: &T,
    ) -> Result<(), EmitError> {
        let mut b = self.encode(to, event, None, args)?;
        b.volatile = volatile;
        self.everywhere(MeshMessage::Broadcast(Arc::new(b)));
        Ok(())
    }

    /// Another server's broadcast with acknowledgements: once every shard has sent it, a
    /// [`ClusterEvent::ClientCount`], then a [`ClusterEvent::Ack`] per client that answers
    /// within `timeout`, each with `token`.
    pub fn broadcast_with_ack<T: Serialize + ?Sized>(
        &self,
        to: &Selection,
        timeout: Duration,
        token: u64,
        event: &str,
        args: &T,
    ) -> Result<(), EmitError> {
        let id = next_broadcast_ack_id();
        let mut b = self.encode(to, event, Some(id), args)?;
        let relay = Relay {
            post: self.post.clone(),
            token,
        };
        b.ack = Some(AckGather::relay(
            self.post.shards(),
            id,
            timeout,
            Box::new(relay),
        ));
        self.everywhere(MeshMessage::Broadcast(Arc::new(b)));
        Ok(())
    }

    /// The selected sockets of every shard, as a [`ClusterEvent::Fetched`] with `token`.
    pub fn fetch(&self, from: &Selection, token: u64) {
        let post = self.post.clone();
        let gather = Gather::with_callback(self.post.shards(), move |sockets: Vec<SocketInfo>| {
            Self::answer(&post, ClusterEvent::Fetched { token, sockets });
        });
        self.everywhere(MeshMessage::Request(from.request(Op::Fetch(gather))));
    }

    /// Makes the selected sockets join `room`.
    pub fn join(&self, from: &Selection, room: &str) {
        let gather = Gather::with_callback(self.post.shards(), |_| {});
        let op = Op::Join(room.into(), gather);
        self.everywhere(MeshMessage::Request(from.request(op)));
    }

    /// Makes the selected sockets leave `room`.
    pub fn leave(&self, from: &Selection, room: &str) {
        let gather = Gather::with_callback(self.post.shards(), |_| {});
        let op = Op::Leave(room.into(), gather);
        self.everywhere(MeshMessage::Request(from.request(op)));
    }

    /// Disconnects the selected sockets (and their connections with `close`).
    pub fn disconnect(&self, from: &Selection, close: bool) {
        let gather = Gather::with_callback(self.post.shards(), |_| {});
        let op = Op::Disconnect(close, gather);
        self.everywhere(MeshMessage::Request(from.request(op)));
    }

    /// The rooms of namespace `nsp` on every shard, as a [`ClusterEvent::Rooms`].
    pub fn rooms(&self, nsp: &str, token: u64) {
        let post = self.post.clone();
        let gather = Gather::with_callback(self.post.shards(), move |mut rooms: Vec<String>| {
            rooms.sort();
            rooms.dedup();
            Self::answer(&post, ClusterEvent::Rooms { token, rooms });
        });
        let request = Selection::all(nsp).request(Op::Rooms(gather));
        self.everywhere(MeshMessage::Request(request));
    }

    /// Another server's server-side event: the listeners of namespace `nsp` run on every
    /// shard (each shard's state hears it, as a server-side event from a sibling shard
    /// does), with `args` (a JSON array). With a `token`, what they answered on every shard
    /// comes back as one [`ClusterEvent::ServerEventAnswered`] (the server answers once: its
    /// first answer, as a Node server's listener calls back once).
    pub fn server_event(&self, nsp: &str, name: &str, args: serde_json::Value, token: Option<u64>) {
        let reply = token.map(|token| {
            let post = self.post.clone();
            Gather::with_callback(self.post.shards(), move |answers| {
                Self::answer(&post, ClusterEvent::ServerEventAnswered { token, answers });
            })
        });
        let op = Op::ServerEvent {
            name: name.into(),
            args,
            reply,
        };
        self.everywhere(MeshMessage::Request(Selection::all(nsp).request(op)));
    }
}

/// Passes a relayed broadcast's count and answers to the adapter.
struct Relay {
    post: Arc<dyn MeshPost>,
    token: u64,
}

impl AckRelay for Relay {
    fn client_count(&mut self, count: usize) {
        let token = self.token;
        Inbound::answer(&self.post, ClusterEvent::ClientCount { token, count });
    }

    fn ack(&mut self, args: Args) {
        let token = self.token;
        Inbound::answer(&self.post, ClusterEvent::Ack { token, args });
    }
}
