//! Acknowledgements as values: [`AckSender`] answers a client's request from anywhere,
//! [`AckFuture`] waits for a client's answer.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_channel::oneshot;
use serde::Serialize;

use crate::mesh::{MeshMessage, MeshPost};
use crate::shard::{local_shard, mesh_key, Shard};
use crate::socketio::{
    encode_ack, AckError, AckGather, Args, Broadcast, BroadcastAckError, EmitError, RoomNames,
};

/// The answer a client asked for with an event (its `callback`): move it into a task, answer
/// it after any number of awaits, or send it to another thread and answer it there.
///
/// Answered in a task of the shard that owns the socket, it is written at once, in order with
/// what the task sends; from another thread it goes to that shard through the mesh. (Inside a
/// synchronous handler the shard is lent to the handler: answer with
/// [`Socket::ack`](crate::Socket::ack) there, or the answer goes through the mesh and follows
/// what the handler sends.) Dropped unanswered, the client never gets an answer (as in Node).
pub struct AckSender {
    post: Option<Arc<dyn MeshPost>>,
    shard: usize,
    nsp: Arc<str>,
    socket: Arc<str>,
    id: u64,
}

impl std::fmt::Debug for AckSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AckSender")
            .field("socket", &self.socket)
            .field("id", &self.id)
            .finish()
    }
}

impl AckSender {
    /// The sender for acknowledgement `id` of socket `sk` of a shard.
    pub(crate) fn new(shard: &Shard, nsp: Arc<str>, socket: Arc<str>, id: u64) -> AckSender {
        AckSender {
            post: shard.post.clone(),
            shard: shard.index(),
            nsp,
            socket,
            id,
        }
    }

    /// The acknowledgement id the client sent.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Answers: a tuple is several arguments, `()` none, anything else one.
    pub fn send<T: Serialize + ?Sized>(self, args: &T) -> Result<(), EmitError> {
        let post = self.post.as_ref().ok_or(EmitError::Disconnected)?;
        let packets = encode_ack(post.parser(), &self.nsp, self.id, args)?;
        if let Some(shard) = local_shard(mesh_key(post), self.shard) {
            if let Ok(mut shard) = shard.try_borrow_mut() {
                return shard.task_work(|shard| {
                    let sk = shard
                        .sio
                        .socket_by_id(&self.socket)
                        .ok_or(EmitError::Disconnected)?;
                    shard.sio.send(&mut shard.engine, sk, &packets);
                    Ok(())
                });
            }
        }
        let mut rooms = RoomNames::new();
        rooms.push(self.socket.as_ref().into());
        let broadcast = Broadcast::new(self.nsp.as_ref().into(), rooms, RoomNames::new(), packets);
        post.post(self.shard, MeshMessage::Broadcast(Arc::new(broadcast)));
        Ok(())
    }
}

/// A client's answer to an event sent with an acknowledgement: its arguments, or
/// [`AckError::Timeout`] when it did not come in time, or [`AckError::Disconnected`] when the
/// socket left first. `Send`: await it anywhere.
#[derive(Debug)]
#[must_use = "an acknowledgement is only seen by awaiting it"]
pub struct AckFuture {
    rx: oneshot::Receiver<Result<Args, AckError>>,
}

impl AckFuture {
    /// A future, and the callback that completes it.
    pub(crate) fn new() -> (
        AckFuture,
        impl FnOnce(Result<Args, AckError>) + Send + 'static,
    ) {
        let (tx, rx) = oneshot::channel();
        let complete = move |result| drop(tx.send(result));
        (AckFuture { rx }, complete)
    }
}

impl Future for AckFuture {
    type Output = Result<Args, AckError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.rx)
            .poll(cx)
            .map(|r| r.unwrap_or(Err(AckError::Disconnected)))
    }
}

/// Every recipient's answer to a broadcast sent with an acknowledgement, or
/// [`BroadcastAckError`] naming how many did not answer in time.
#[derive(Debug)]
#[must_use = "the broadcast is sent; await it to see the answers"]
pub struct BroadcastAckFuture {
    gather: Arc<AckGather>,
}

impl BroadcastAckFuture {
    pub(crate) fn new(gather: Arc<AckGather>) -> Self {
        BroadcastAckFuture { gather }
    }
}

impl Future for BroadcastAckFuture {
    type Output = Result<Vec<Args>, BroadcastAckError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.gather.poll_done(cx)
    }
}
