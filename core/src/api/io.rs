//! The handle any thread may emit and ask with.

use std::sync::Arc;

use serde::Serialize;

use super::operator::{IoOperator, Remote};
use super::RemoteSocket;
use crate::mesh::{
    Answer, ClusterEvent, Count, Gather, MeshMessage, MeshPost, Op, Request, RequestError,
    ServerAnswers,
};
use crate::shard::Shard;
use crate::socketio::payload::args_value;
use crate::socketio::{check_name, EmitError, RoomNames};

/// Emits to, and asks about, the sockets of every shard from any thread: a handler's task,
/// a tokio task of another runtime, a plain thread. Cheap to clone, `Send + Sync`.
#[derive(Clone)]
pub struct Io {
    pub(crate) post: Arc<dyn MeshPost>,
    /// The shard this handle was taken on, if any (a server-side event skips it).
    pub(crate) origin: Option<usize>,
}

impl std::fmt::Debug for Io {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Io")
            .field("shards", &self.post.shards())
            .finish()
    }
}

impl Io {
    /// A handle posting through `post` (made by the runtime driver).
    pub fn new(post: Arc<dyn MeshPost>) -> Io {
        Io { post, origin: None }
    }

    /// The handle of a shard's handlers: what it sends skips that shard where Node skips
    /// the sending server (server-side events).
    pub(crate) fn of_shard(shard: &Shard) -> Option<Io> {
        let mut io = Io::new(shard.post.clone()?);
        io.origin = Some(shard.index());
        Some(io)
    }

    /// The number of shards.
    pub fn shards(&self) -> usize {
        self.post.shards()
    }

    /// Broadcasts in namespace `nsp` (`io.of(nsp)`); for a dynamic namespace (its pattern,
    /// or the key of a function one), in every child.
    pub fn of(&self, nsp: &str) -> IoOperator<'_> {
        IoOperator::new(Remote {
            io: self,
            nsp: nsp.into(),
        })
    }

    /// Broadcasts in `/` to a room or socket id (`io.to(room)`).
    pub fn to(&self, room: &str) -> IoOperator<'_> {
        self.of("/").to(room)
    }

    /// The same as [`Io::to`] (Node's `io.in`).
    pub fn in_(&self, room: &str) -> IoOperator<'_> {
        self.of("/").to(room)
    }

    /// Broadcasts in `/` to every socket but the members of a room (`io.except(room)`).
    pub fn except(&self, room: &str) -> IoOperator<'_> {
        self.of("/").except(room)
    }

    /// Emits to every socket of `/` (`io.emit`).
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, args: &T) -> Result<(), EmitError> {
        self.of("/").emit(event, args)
    }

    /// Removes namespace `nsp` from every shard: its sockets are disconnected ("server
    /// namespace disconnect") and new clients are refused "Invalid namespace" (a child of a
    /// dynamic namespace is made again by its next client). The answer is how many sockets
    /// left.
    pub fn remove_namespace(&self, nsp: &str) -> Count {
        let shards = self.post.shards();
        let gather = Gather::new(shards, false);
        let request = Arc::new(Request {
            nsp: nsp.into(),
            rooms: RoomNames::new(),
            except: RoomNames::new(),
            op: Op::Remove(gather.clone()),
        });
        for shard in 0..shards {
            self.post.post(shard, MeshMessage::Request(request.clone()));
        }
        Count::new(Answer::new(gather))
    }

    /// A socket of namespace `nsp` by id, on whichever shard (or server) it is; an error when
    /// another server of a cluster did not answer in time.
    pub async fn socket(&self, nsp: &str, id: &str) -> Result<Option<RemoteSocket>, RequestError> {
        let found = self.of(nsp).to(id).fetch_sockets().await?;
        // `to(id)` also selects the members of a room named `id`.
        Ok(found.into_iter().find(|s| s.id() == id))
    }

    /// Sends an event to the server-side listeners of namespace `nsp`
    /// ([`Namespace::on_server_event`](crate::Namespace::on_server_event)) on the other
    /// shards (every shard when this handle was not taken on one) and, in a cluster, on
    /// every shard of every other server: Node's `serverSideEmit`.
    pub fn server_side_emit<T: Serialize + ?Sized>(
        &self,
        nsp: &str,
        event: &str,
        args: &T,
    ) -> Result<(), EmitError> {
        check_name(event)?;
        self.send_server_event(nsp, event, args, None);
        Ok(())
    }

    /// As [`Io::server_side_emit`], collecting what the listeners answer, one list per
    /// shard of this server reached, flattened, then one answer per other server of a
    /// cluster (its first, as a Node server answers once) (Node's `serverSideEmitWithAck`). It completes when every shard reached has run its
    /// listeners and every other server answered; another server that does not answer in
    /// time makes it fail with Node's error, carrying the answers that came. Without a
    /// cluster, bound the wait with your runtime's timeout.
    pub fn server_side_emit_with_ack<T: Serialize + ?Sized>(
        &self,
        nsp: &str,
        event: &str,
        args: &T,
    ) -> Result<ServerAnswers, EmitError> {
        check_name(event)?;
        let clustered = self.post.cluster().is_some();
        let gather = Gather::new(self.targets().count(), clustered);
        self.send_server_event(nsp, event, args, Some(gather.clone()));
        Ok(ServerAnswers::new(Answer::new(gather)))
    }

    /// The shards a server-side event reaches: all but the one this handle was taken on.
    fn targets(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.post.shards()).filter(|&s| Some(s) != self.origin)
    }

    fn send_server_event<T: Serialize + ?Sized>(
        &self,
        nsp: &str,
        event: &str,
        args: &T,
        reply: Option<Arc<Gather<serde_json::Value>>>,
    ) {
        let request = Arc::new(Request {
            nsp: nsp.into(),
            rooms: RoomNames::new(),
            except: RoomNames::new(),
            op: Op::ServerEvent {
                name: event.into(),
                args: args_value(args),
                reply,
            },
        });
        for shard in self.targets() {
            self.post.post(shard, MeshMessage::Request(request.clone()));
        }
        if let Some(cluster) = self.post.cluster() {
            cluster.send(ClusterEvent::Request(request));
        }
    }
}
