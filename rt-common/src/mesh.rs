//! The inboxes through which other threads reach a shard: mesh messages from other shards and
//! [`Io`](corelay_core::Io) handles, connections handed over by session routing, and the
//! order to stop.
//!
//! Posting pushes under a short lock and wakes the shard's inbox task through its runtime's
//! waker (every runtime's wakers work across threads), only when the inbox was empty: the task
//! takes the whole batch at each wake-up and drains the shard once for all of it, so a burst of
//! broadcasts from another shard reaches each connection in one write, as a local burst does.

use std::future::{poll_fn, Future};
use std::net::SocketAddr;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::{Poll, Waker};

use std::sync::Arc;

use bytes::Bytes;
use corelay_core::{ClusterPort, MeshMessage, MeshPost, MeshTarget, Parser};

use crate::cluster::ClusterInbox;

/// What crosses to a shard's thread.
#[derive(Debug)]
pub(crate) enum Envelope {
    /// A message for the shard's core.
    Mesh(MeshMessage),
    /// A connection handed over by another shard, with the bytes that shard read from it.
    Conn(std::net::TcpStream, SocketAddr, Bytes),
    /// Shut down gracefully.
    Stop,
}

#[derive(Debug, Default)]
struct Inbox {
    /// False once the shard has stopped: what comes then is dropped (a socket closes).
    open: bool,
    items: Vec<Envelope>,
    waker: Option<Waker>,
}

/// Every shard's inbox.
#[derive(Debug)]
pub(crate) struct Mesh {
    inboxes: Vec<Mutex<Inbox>>,
    /// The cluster adapter's inbox, when the server has one.
    cluster: Option<Arc<ClusterInbox>>,
    /// The app's Socket.IO parser.
    parser: Parser,
}

fn lock(m: &Mutex<Inbox>) -> MutexGuard<'_, Inbox> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Mesh {
    pub(crate) fn new(shards: usize, cluster: Option<Arc<ClusterInbox>>, parser: Parser) -> Mesh {
        let inboxes = (0..shards)
            .map(|_| {
                Mutex::new(Inbox {
                    open: true,
                    ..Inbox::default()
                })
            })
            .collect();
        Mesh {
            inboxes,
            cluster,
            parser,
        }
    }

    /// Delivers an envelope to shard `shard`, waking it if it was idle.
    pub(crate) fn send(&self, shard: usize, envelope: Envelope) {
        let Some(inbox) = self.inboxes.get(shard) else {
            return;
        };
        let mut inbox = lock(inbox);
        if !inbox.open {
            return;
        }
        inbox.items.push(envelope);
        let waker = inbox.waker.take();
        drop(inbox);
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// Sends a message of shard `from` where `target` says.
    pub(crate) fn route(&self, from: usize, target: MeshTarget, message: MeshMessage) {
        match target {
            MeshTarget::Shard(k) => self.send(k, Envelope::Mesh(message)),
            MeshTarget::Others => {
                for k in (0..self.inboxes.len()).filter(|&k| k != from) {
                    self.send(k, Envelope::Mesh(message.clone()));
                }
            }
        }
    }

    /// Wakes the cluster adapter for the events this shard thread gave it since the last
    /// call (see [`crate::cluster::defer_wakes`]).
    pub(crate) fn flush_cluster(&self) {
        if let Some(cluster) = &self.cluster {
            cluster.flush();
        }
    }

    /// Tells every shard to stop.
    pub(crate) fn stop_all(&self) {
        for k in 0..self.inboxes.len() {
            self.send(k, Envelope::Stop);
        }
    }

    /// Waits for envelopes of shard `shard` and swaps them into `batch` (which is empty).
    pub(crate) fn next_batch<'a>(
        &'a self,
        shard: usize,
        batch: &'a mut Vec<Envelope>,
    ) -> impl Future<Output = ()> + 'a {
        poll_fn(move |cx| {
            let mut inbox = lock(&self.inboxes[shard]);
            if inbox.items.is_empty() {
                if !inbox
                    .waker
                    .as_ref()
                    .is_some_and(|w| w.will_wake(cx.waker()))
                {
                    inbox.waker = Some(cx.waker().clone());
                }
                return Poll::Pending;
            }
            std::mem::swap(&mut inbox.items, batch);
            Poll::Ready(())
        })
    }

    /// Closes shard `shard`'s inbox: what it holds and what comes later is dropped.
    pub(crate) fn close(&self, shard: usize) -> Vec<Envelope> {
        let mut inbox = lock(&self.inboxes[shard]);
        inbox.open = false;
        inbox.waker = None;
        std::mem::take(&mut inbox.items)
    }
}

impl MeshPost for Mesh {
    fn shards(&self) -> usize {
        self.inboxes.len()
    }

    fn post(&self, shard: usize, message: MeshMessage) {
        self.send(shard, Envelope::Mesh(message));
    }

    fn cluster(&self) -> Option<&dyn ClusterPort> {
        self.cluster.as_deref().map(|c| c as &dyn ClusterPort)
    }

    fn parser(&self) -> Parser {
        self.parser
    }
}
