//! A connection: its task (reads, and writability while its socket is full) and the write of
//! the core's queue.
//!
//! Reads borrow the shard's scratch buffer for the duration of one poll, so an idle
//! connection holds no buffer: the core keeps only an incomplete tail. Writes are made in
//! [`ShardDriver::drive`], right after the input that queued the bytes: one vectored write of
//! the whole queue (up to `IOV` chunks at a time) per connection and drain, however many
//! packets are queued. When the socket takes nothing more, the connection is marked blocked
//! and its task polls for writability and writes the rest.

use std::cell::{Cell, RefCell};
use std::io::{self, IoSlice};
use std::net::SocketAddr;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use corelay_core::{ConnId, Shard};

use crate::runtime::{Runtime, Stream};
use crate::shard::ShardDriver;

/// Chunks handed to one vectored write (Linux's `IOV_MAX`).
const IOV: usize = 1024;
/// Reads of one connection before its task yields to the others.
const READ_BUDGET: usize = 16;

/// What the driver keeps of a connection.
pub(crate) struct Connection<R: Runtime> {
    /// `None` once handed over to another shard.
    pub(crate) stream: RefCell<Option<R::Stream>>,
    pub(crate) peer: SocketAddr,
    /// A write would block: the task waits for writability, then writes the rest.
    blocked: Cell<bool>,
    /// The core has forgotten the connection: the task ends.
    closed: Cell<bool>,
    waker: RefCell<Option<Waker>>,
}

impl<R: Runtime> Connection<R> {
    pub(crate) fn new(stream: R::Stream, peer: SocketAddr) -> Self {
        Connection {
            stream: RefCell::new(Some(stream)),
            peer,
            blocked: Cell::new(false),
            closed: Cell::new(false),
            waker: RefCell::new(None),
        }
    }

    /// Ends the connection's task (the socket closes when the task drops it).
    pub(crate) fn close(&self) {
        self.closed.set(true);
        self.wake();
    }

    fn wake(&self) {
        if let Some(w) = self.waker.borrow().as_ref() {
            w.wake_by_ref();
        }
    }
}

/// What one read gave.
enum Read {
    Data,
    End,
    Pending,
}

/// One poll of a connection's task: writes while the socket was full, then reads.
pub(crate) fn poll_conn<R: Runtime>(
    d: &Rc<ShardDriver<R>>,
    id: ConnId,
    conn: &Connection<R>,
    cx: &mut Context<'_>,
) -> Poll<()> {
    {
        let mut waker = conn.waker.borrow_mut();
        if !waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            *waker = Some(cx.waker().clone());
        }
    }
    for _ in 0..READ_BUDGET {
        if conn.closed.get() {
            return Poll::Ready(());
        }
        if conn.blocked.get() {
            poll_flush(d, id, conn, cx);
            if conn.closed.get() {
                return Poll::Ready(());
            }
        }
        let read = {
            let mut stream = conn.stream.borrow_mut();
            let Some(stream) = stream.as_mut() else {
                return Poll::Ready(());
            };
            let mut scratch = d.scratch.borrow_mut();
            match stream.poll_read(cx, &mut scratch) {
                Poll::Pending => Read::Pending,
                Poll::Ready(Ok(0)) => Read::End,
                Poll::Ready(Ok(n)) => {
                    d.shard
                        .borrow_mut()
                        .receive(Instant::now(), id, &scratch[..n]);
                    Read::Data
                }
                Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => continue,
                Poll::Ready(Err(_)) => Read::End,
            }
        };
        match read {
            Read::Pending => return Poll::Pending,
            Read::Data => d.drive(),
            Read::End => end(d, id),
        }
    }
    // Other connections get their turn.
    cx.waker().wake_by_ref();
    Poll::Pending
}

/// The peer closed the connection, or an I/O error ended it: the core answers with
/// `Action::Close`, which ends the task.
fn end<R: Runtime>(d: &Rc<ShardDriver<R>>, id: ConnId) {
    d.shard.borrow_mut().closed(Instant::now(), id);
    d.drive();
}

/// A blocked connection: writes once the socket is writable again, then what is left.
fn poll_flush<R: Runtime>(
    d: &Rc<ShardDriver<R>>,
    id: ConnId,
    conn: &Connection<R>,
    cx: &mut Context<'_>,
) {
    let result = {
        let shard = d.shard.borrow();
        let mut slices = [IoSlice::new(&[]); IOV];
        let n = shard.send_queue(id, &mut slices);
        let mut stream = conn.stream.borrow_mut();
        match stream.as_mut() {
            Some(stream) if n > 0 => stream.poll_write_vectored(cx, &slices[..n]),
            _ => Poll::Ready(Ok(0)),
        }
    };
    match result {
        Poll::Pending => {}
        Poll::Ready(Ok(n)) => {
            conn.blocked.set(false);
            let mut shard = d.shard.borrow_mut();
            shard.advance(id, n);
            write(&mut shard, id, conn);
            drop(shard);
            d.drive();
        }
        Poll::Ready(Err(_)) => end(d, id),
    }
}

impl<R: Runtime> ShardDriver<R> {
    /// Writes a connection's queue until it is empty or the socket is full.
    pub(crate) fn write(&self, shard: &mut Shard, id: ConnId) {
        let conn = self.conns.borrow().get(&id).cloned();
        if let Some(conn) = conn {
            write(shard, id, &conn);
        }
    }
}

fn write<R: Runtime>(shard: &mut Shard, id: ConnId, conn: &Connection<R>) {
    if conn.blocked.get() {
        return;
    }
    loop {
        let result = {
            let mut slices = [IoSlice::new(&[]); IOV];
            let n = shard.send_queue(id, &mut slices);
            if n == 0 {
                return;
            }
            let mut stream = conn.stream.borrow_mut();
            let Some(stream) = stream.as_mut() else {
                return;
            };
            stream.try_write_vectored(&slices[..n])
        };
        match result {
            Ok(0) => {
                shard.closed(Instant::now(), id);
                return;
            }
            Ok(n) => shard.advance(id, n),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                conn.blocked.set(true);
                conn.wake();
                return;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => {
                shard.closed(Instant::now(), id);
                return;
            }
        }
    }
}
