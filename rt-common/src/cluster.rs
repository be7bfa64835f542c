//! The cluster adapter's thread: the shards' port to it, and the loop that carries its bytes.
//!
//! A server with a Redis URL runs one more thread beside its shards. The shards hand it what
//! the other servers must hear through a [`ClusterInbox`] (a bounded queue and a waker: a shard
//! never waits on it); the thread runs the sans-IO [`Adapter`] of `corelay-redis` on the
//! runtime's own TCP and timer, and the adapter hands what comes from Redis to every shard
//! through the mesh. No protocol decision is made here: connect and close when the adapter
//! says, carry bytes, sleep until its deadline.

use std::collections::VecDeque;
use std::future::{poll_fn, Future};
use std::io::{self, IoSlice};
use std::net::{SocketAddr, ToSocketAddrs};
use std::pin::Pin;
use std::sync::{mpsc, Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use bytes::{Buf, Bytes};
use corelay_core::{ClusterEvent, ClusterPort, RequestError};
use corelay_redis::adapter::{Action, Adapter, Link};
use corelay_redis::connection::RedisUrl;

use crate::runtime::{Runtime, Stream};

/// The most events waiting for the adapter; beyond, a broadcast is not sent to the other
/// servers and a request fails at once (the adapter is far behind, most likely Redis is slow).
const MAX_PENDING: usize = 65_536;

/// The most bytes read from Redis in one go.
const READ_CHUNK: usize = 64 * 1024;

thread_local! {
    /// Set on shard threads: their events wake the adapter once per drain, not once each.
    static DEFER: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// A deferred wake-up is owed ([`ClusterInbox::flush`]).
    static OWED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Makes the calling (shard) thread's events wait for [`ClusterInbox::flush`] to wake the
/// adapter: a burst handled in one drain reaches it, and Redis, as one batch (one write of
/// many PUBLISH commands instead of one write each).
pub(crate) fn defer_wakes() {
    DEFER.set(true);
}

#[derive(Debug, Default)]
struct InboxState {
    open: bool,
    items: VecDeque<ClusterEvent>,
    waker: Option<Waker>,
}

/// Where the shards' [`ClusterEvent`]s wait for the adapter's thread.
#[derive(Debug)]
pub(crate) struct ClusterInbox {
    state: Mutex<InboxState>,
    /// Whether the adapter wants the shards' rooms (the sharded adapter's dynamic modes).
    rooms: bool,
}

impl ClusterInbox {
    pub(crate) fn new(rooms: bool) -> Arc<ClusterInbox> {
        Arc::new(ClusterInbox {
            state: Mutex::new(InboxState {
                open: true,
                ..InboxState::default()
            }),
            rooms,
        })
    }

    fn lock(&self) -> MutexGuard<'_, InboxState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Stops the adapter's thread.
    pub(crate) fn close(&self) {
        let mut state = self.lock();
        state.open = false;
        let waker = state.waker.take();
        drop(state);
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// Wakes the adapter if this thread's events since the last flush are waiting for it.
    pub(crate) fn flush(&self) {
        if OWED.replace(false) {
            let waker = self.lock().waker.take();
            if let Some(w) = waker {
                w.wake();
            }
        }
    }

    /// Moves the waiting events into `batch`; `None` once closed.
    fn take(&self, cx: &Context<'_>, batch: &mut VecDeque<ClusterEvent>) -> Option<()> {
        let mut state = self.lock();
        if !state.open {
            return None;
        }
        if state.items.is_empty() {
            if !state
                .waker
                .as_ref()
                .is_some_and(|w| w.will_wake(cx.waker()))
            {
                state.waker = Some(cx.waker().clone());
            }
        } else {
            std::mem::swap(&mut state.items, batch);
        }
        Some(())
    }
}

impl ClusterPort for ClusterInbox {
    fn wants_rooms(&self) -> bool {
        self.rooms
    }

    fn send(&self, event: ClusterEvent) {
        let mut state = self.lock();
        if state.open && state.items.len() < MAX_PENDING {
            state.items.push_back(event);
            if DEFER.get() {
                OWED.set(true);
                return;
            }
            let waker = state.waker.take();
            drop(state);
            if let Some(w) = waker {
                w.wake();
            }
            return;
        }
        drop(state);
        refuse(event);
    }
}

/// An event the adapter will never see: whoever waits on it is answered now.
fn refuse(event: ClusterEvent) {
    tracing::warn!("cluster adapter overloaded or stopped: event not sent to other servers");
    match event {
        ClusterEvent::Broadcast { broadcast, .. } => broadcast.cluster_servers(0),
        ClusterEvent::Request(request) if request.wants_cluster_answer() => {
            request.fail_cluster(RequestError::new("cluster adapter unavailable"));
        }
        _ => {}
    }
}

/// A sleep of the runtime's, until its instant.
type Sleep = (Instant, Pin<Box<dyn Future<Output = ()>>>);

/// A link's socket.
enum LinkIo<R: Runtime> {
    Idle,
    Connecting(Pin<Box<dyn Future<Output = io::Result<R::Stream>>>>),
    Up {
        stream: R::Stream,
        out: VecDeque<Bytes>,
    },
}

/// Starts the adapter's thread; `ready` hears once both links are up (or never, when Redis
/// can not be reached: the adapter keeps trying).
pub(crate) fn spawn<R: Runtime>(
    options: R::Options,
    adapter: Adapter,
    inbox: Arc<ClusterInbox>,
    ready: mpsc::SyncSender<()>,
) -> io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("corelay-cluster".into())
        .spawn(move || {
            let run = run::<R>(adapter, inbox, ready);
            if let Err(e) = R::block_on(&options, run) {
                tracing::error!("cluster adapter: runtime: {e}");
            }
        })
}

fn resolve(url: &RedisUrl) -> io::Result<SocketAddr> {
    (url.host.as_str(), url.port)
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "Redis host has no address"))
}

async fn run<R: Runtime>(
    mut adapter: Adapter,
    inbox: Arc<ClusterInbox>,
    ready: mpsc::SyncSender<()>,
) {
    let mut ready = Some(ready);
    let mut links: [LinkIo<R>; 2] = [LinkIo::Idle, LinkIo::Idle];
    let mut buf = vec![0; READ_CHUNK];
    let mut batch = VecDeque::new();
    let mut sleep: Option<Sleep> = None;
    poll_fn(|cx| loop {
        let mut progress = false;
        let now = Instant::now();
        if inbox.take(cx, &mut batch).is_none() {
            return Poll::Ready(());
        }
        for event in batch.drain(..) {
            adapter.handle_event(now, event);
            progress = true;
        }
        while let Some(action) = adapter.poll_action() {
            progress = true;
            match action {
                Action::Connect(link) => {
                    links[index(link)] = match resolve(adapter.url()) {
                        Ok(addr) => LinkIo::Connecting(Box::pin(R::connect(addr))),
                        Err(e) => {
                            tracing::warn!("Redis at {}: {e}", adapter.url().host);
                            adapter.handle_closed(now, link);
                            LinkIo::Idle
                        }
                    }
                }
                Action::Close(link) => {
                    links[index(link)] = LinkIo::Idle;
                    adapter.handle_closed(now, link);
                }
            }
        }
        for link in Link::ALL {
            progress |= drive::<R>(
                cx,
                now,
                &mut adapter,
                link,
                &mut links[index(link)],
                &mut buf,
            );
        }
        match adapter.poll_timeout() {
            None => sleep = None,
            Some(at) if at <= now => {
                adapter.handle_timeout(now);
                progress = true;
            }
            Some(at) => {
                if sleep.as_ref().map(|(t, _)| *t) != Some(at) {
                    sleep = Some((at, Box::pin(R::sleep_until(at))));
                }
                if let Some((_, s)) = &mut sleep {
                    if s.as_mut().poll(cx).is_ready() {
                        sleep = None;
                        adapter.handle_timeout(Instant::now());
                        progress = true;
                    }
                }
            }
        }
        if adapter.is_ready() {
            if let Some(tx) = ready.take() {
                let _ = tx.send(());
            }
        }
        if !progress {
            return Poll::Pending;
        }
    })
    .await;
}

fn index(link: Link) -> usize {
    match link {
        Link::Subscriber => 0,
        Link::Publisher => 1,
    }
}

/// Moves one link's bytes as far as its socket allows; whether anything happened.
fn drive<R: Runtime>(
    cx: &mut Context<'_>,
    now: Instant,
    adapter: &mut Adapter,
    link: Link,
    io: &mut LinkIo<R>,
    buf: &mut [u8],
) -> bool {
    let mut progress = false;
    if let LinkIo::Connecting(connecting) = io {
        match connecting.as_mut().poll(cx) {
            Poll::Pending => return false,
            Poll::Ready(Ok(stream)) => {
                *io = LinkIo::Up {
                    stream,
                    out: VecDeque::new(),
                };
                adapter.handle_connected(now, link);
            }
            Poll::Ready(Err(e)) => {
                tracing::warn!(?link, "Redis connect: {e}");
                *io = LinkIo::Idle;
                adapter.handle_closed(now, link);
                return true;
            }
        }
        progress = true;
    }
    let LinkIo::Up { stream, out } = io else {
        return progress;
    };
    let mut failed = None;
    loop {
        match stream.poll_read(cx, buf) {
            Poll::Ready(Ok(0)) => {
                failed = Some(io::Error::from(io::ErrorKind::UnexpectedEof));
                break;
            }
            Poll::Ready(Ok(n)) => {
                adapter.handle_bytes(now, link, &buf[..n]);
                progress = true;
            }
            Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
            Poll::Ready(Err(e)) => {
                failed = Some(e);
                break;
            }
            Poll::Pending => break,
        }
    }
    if failed.is_none() {
        while let Some(bytes) = adapter.poll_transmit(link) {
            out.push_back(bytes);
        }
        while !out.is_empty() {
            let slices: Vec<IoSlice<'_>> = out.iter().take(64).map(|b| IoSlice::new(b)).collect();
            match stream.poll_write_vectored(cx, &slices) {
                Poll::Ready(Ok(0)) => {
                    failed = Some(io::ErrorKind::WriteZero.into());
                    break;
                }
                Poll::Ready(Ok(mut n)) => {
                    while n > 0 {
                        let Some(front) = out.front_mut() else { break };
                        let k = n.min(front.len());
                        front.advance(k);
                        n -= k;
                        if front.is_empty() {
                            out.pop_front();
                        }
                    }
                }
                Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
                Poll::Ready(Err(e)) => {
                    failed = Some(e);
                    break;
                }
                Poll::Pending => break,
            }
        }
    }
    if let Some(e) = failed {
        tracing::warn!(?link, "Redis connection: {e}");
        *io = LinkIo::Idle;
        adapter.handle_closed(now, link);
        progress = true;
    }
    progress
}
