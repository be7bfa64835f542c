//! What the mesh asks of a shard: broadcasts (with their acknowledgements) and requests about
//! the shard's sockets, for namespaces named directly or for every child of a dynamic one.

use smallvec::SmallVec;

use super::Shard;
use crate::api::{Io, Socket};
use crate::id::{NsId, SocketId};
use crate::mesh::{Gather, Op, Request};
use crate::socketio::{AckGather, Broadcast};
use std::sync::Arc;

/// A pending acknowledgement of a broadcast: counted as missing if dropped unanswered (its
/// socket left).
struct Pending {
    gather: Arc<AckGather>,
    done: bool,
}

impl Drop for Pending {
    fn drop(&mut self) {
        if !self.done {
            self.gather.miss();
        }
    }
}

impl Shard {
    /// The namespaces of this shard that `nsp` names: the namespace of that name, or the
    /// children of the dynamic namespace of that name.
    pub(crate) fn namespaces_named(&self, nsp: &str) -> SmallVec<[NsId; 1]> {
        if let Some(ns) = self.sio.namespace(nsp) {
            return smallvec::smallvec![ns];
        }
        match self.app.tag_of(nsp) {
            Some(tag) => self.sio.children(tag).collect(),
            None => SmallVec::new(),
        }
    }

    /// Delivers a broadcast to this shard's sockets, leaving out `except_socket`; with an
    /// acknowledgement, every recipient's answer goes to the broadcast's gather, and the
    /// gather learns how many there were.
    pub(crate) fn deliver(&mut self, b: &Broadcast, except_socket: Option<SocketId>) {
        let mut recipients = Vec::new();
        for ns in self.namespaces_named(&b.nsp) {
            // The children of a dynamic namespace each get the packets headed with their name.
            let name = self.sio.name(ns);
            let child = (name != &*b.nsp).then(|| b.for_child(name));
            let out = b.ack.is_some().then_some(&mut recipients);
            let b = child.as_ref().unwrap_or(b);
            self.sio
                .broadcast(&mut self.engine, ns, b, except_socket, out);
        }
        let Some(gather) = &b.ack else {
            return;
        };
        for &sk in &recipients {
            let mut pending = Pending {
                gather: gather.clone(),
                done: false,
            };
            let callback = Box::new(move |_: &mut Shard, _, result| {
                pending.done = true;
                match result {
                    Ok(args) => pending.gather.answer(args),
                    Err(_) => pending.gather.miss(),
                }
            });
            let now = self.now;
            self.sio
                .add_ack_with_id(now, sk, gather.id, gather.timeout, callback);
        }
        gather.sent(recipients.len());
    }

    /// Does what a request asks of this shard's sockets, and answers.
    pub(crate) fn request(&mut self, r: &Request) {
        let mut selected = Vec::new();
        for ns in self.namespaces_named(&r.nsp) {
            selected.extend(self.sio.select(ns, &r.rooms, &r.except));
        }
        match &r.op {
            Op::Fetch(gather) => {
                let infos = selected.iter().map(|&sk| Socket::new(self, sk).info());
                let infos: Vec<_> = infos.collect();
                gather.answer(infos);
            }
            Op::Join(room, gather) => {
                for &sk in &selected {
                    self.sio.join(sk, room);
                }
                gather.answer([selected.len()]);
            }
            Op::Leave(room, gather) => {
                for &sk in &selected {
                    self.sio.leave(sk, room);
                }
                gather.answer([selected.len()]);
            }
            Op::Disconnect(close, gather) => {
                for &sk in &selected {
                    Socket::new(self, sk).disconnect(*close);
                }
                gather.answer([selected.len()]);
            }
            Op::Rooms(gather) => {
                let mut rooms = Vec::new();
                for ns in self.namespaces_named(&r.nsp) {
                    rooms.extend(self.sio.room_names(ns));
                }
                gather.answer(rooms);
            }
            Op::ServerEvent { name, args, reply } => self.server_event(&r.nsp, name, args, reply),
        }
    }

    /// A server-side event: the namespace's listeners of it run; with a reply, this shard
    /// answers once, with what its listeners returned.
    fn server_event(
        &mut self,
        nsp: &str,
        name: &str,
        args: &serde_json::Value,
        reply: &Option<Arc<Gather<serde_json::Value>>>,
    ) {
        let app = self.app.clone();
        let handlers = app
            .tag_of(nsp)
            .and_then(|tag| app.handlers(tag)?.server_events.get(name));
        let io = self.post.clone().map(Io::new);
        let mut answers = Vec::new();
        for handler in handlers.into_iter().flatten() {
            answers.extend(handler(io.as_ref(), args));
        }
        if let Some(reply) = reply {
            reply.answer(answers);
        }
    }
}
