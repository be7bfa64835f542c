//! Operating-system helpers every runtime shares: listeners, core pinning, and taking a
//! socket's descriptor out of a runtime that offers no safe way to.

use std::io::{self, IoSlice};
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};

pub use core_affinity::CoreId;

/// A non-blocking listener on `addr` with `SO_REUSEPORT` (and `TCP_NODELAY`, inherited by
/// accepted sockets), so that each shard can have its own listener on one port.
pub fn reuseport_listener(addr: SocketAddr) -> io::Result<std::net::TcpListener> {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    socket.set_reuse_port(true)?;
    socket.set_nodelay(true)?;
    socket.bind(&addr.into())?;
    socket.listen(1024)?;
    socket.set_nonblocking(true)?;
    Ok(socket.into())
}

/// The core each shard runs on when pinning: shard `i` on core `i` modulo their count.
pub(crate) fn shard_cores(pin: bool, shards: usize) -> Vec<Option<CoreId>> {
    let cores = if pin {
        core_affinity::get_core_ids().unwrap_or_default()
    } else {
        Vec::new()
    };
    (0..shards)
        .map(|i| (!cores.is_empty()).then(|| cores[i % cores.len()]))
        .collect()
}

/// Writes what a socket takes now of `bufs`, without waiting (`WouldBlock` when it takes
/// nothing) and without raising `SIGPIPE`: one `sendmsg`. For runtimes whose own vectored
/// write would wait, or spend a task budget (tokio's poll methods count against the budget of
/// the task that calls them, so that one drain of the shard would stop after 128 writes).
/// The runtime's readiness is not told: its next poll of the socket finds out.
pub fn send_vectored(fd: RawFd, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
    use nix::sys::socket::{sendmsg, MsgFlags, SockaddrStorage};
    let flags = MsgFlags::MSG_DONTWAIT | MsgFlags::MSG_NOSIGNAL;
    loop {
        match sendmsg::<SockaddrStorage>(fd, bufs, &[], flags, None) {
            Err(nix::errno::Errno::EINTR) => continue,
            result => return result.map_err(io::Error::from),
        }
    }
}

/// A second descriptor of a runtime's socket, owned apart from it, for runtimes whose stream
/// types neither give their descriptor away nor lend it as a `BorrowedFd` (monoio 0.2 and
/// glommio 0.9 implement only `AsRawFd`). The runtime's stream is dropped afterwards, which
/// unregisters and closes its own descriptor; the socket lives on in the duplicate.
#[allow(unsafe_code)]
pub fn duplicate(socket: &impl AsRawFd) -> io::Result<std::net::TcpStream> {
    // SAFETY: `socket` owns its descriptor and is borrowed for the whole call, so the
    // descriptor stays open while it is borrowed here; the duplicate is a new descriptor,
    // owned by the returned stream.
    let fd = unsafe { BorrowedFd::borrow_raw(socket.as_raw_fd()) };
    Ok(fd.try_clone_to_owned()?.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listeners_share_one_port() {
        let first = reuseport_listener("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = first.local_addr().unwrap();
        let second = reuseport_listener(addr).unwrap();
        assert_eq!(second.local_addr().unwrap(), addr);
    }

    #[test]
    fn a_duplicate_outlives_the_original() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (served, _) = listener.accept().unwrap();
        let dup = duplicate(&served).unwrap();
        drop(served);
        use std::io::{Read, Write};
        (&dup).write_all(b"hi").unwrap();
        let mut buf = [0; 2];
        (&client).read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"hi");
    }
}
