//! What the mesh asks of a shard: broadcasts (with their acknowledgements) and requests about
//! the shard's sockets, for namespaces named directly or for every child of a dynamic one.

use smallvec::SmallVec;

use super::Shard;
use crate::id::{NsId, SocketId};
use crate::mesh::{Gather, Op, Request};
use crate::socketio::{with_namespace, AckGather, Broadcast, DisconnectReason};
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
        let namespaces = self.namespaces_named(&b.nsp);
        let mut recipients = Vec::new();
        for ns in namespaces {
            // A child of a dynamic namespace: its sockets get packets with its own name.
            let name = self.sio.name(ns);
            let renamed = (name != &*b.nsp).then(|| with_namespace(&b.packets, &b.nsp, name));
            let packets = renamed.as_ref().unwrap_or(&b.packets);
            let out = b.ack.is_some().then_some(&mut recipients);
            self.sio
                .broadcast(&mut self.engine, ns, b, packets, except_socket, out);
            self.notify_outgoing(ns, b, packets, except_socket);
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

    /// Node's adapter tells each recipient's `onAnyOutgoing` listeners of a broadcast (a
    /// volatile one included, sent or not): here, when the namespace has such listeners, the
    /// event is read back from its encoded packet once, and each selected socket's listeners
    /// run after the fan-out.
    fn notify_outgoing(
        &mut self,
        ns: NsId,
        b: &Broadcast,
        packets: &crate::socketio::Encoded,
        except_socket: Option<SocketId>,
    ) {
        let app = self.app.clone();
        let Some(h) = app.handlers(self.sio.entry(ns).tag) else {
            return;
        };
        if h.any_outgoing.is_empty() {
            return;
        }
        let Some((name, args)) = read_event(packets) else {
            return;
        };
        for sk in self.sio.select(ns, &b.rooms, &b.except, except_socket) {
            for listener in &h.any_outgoing {
                listener(self, sk, &name, &args);
            }
        }
    }

    /// The sockets of this shard a request selects.
    fn selected(&mut self, r: &Request) -> Vec<SocketId> {
        let mut selected = Vec::new();
        for ns in self.namespaces_named(&r.nsp) {
            selected.extend(self.sio.select(ns, &r.rooms, &r.except, None));
        }
        selected
    }

    /// Does what a request asks of this shard's sockets, and answers.
    pub(crate) fn request(&mut self, r: &Request) {
        match &r.op {
            Op::Fetch(gather) => {
                let selected = self.selected(r);
                let infos = selected.iter().filter_map(|&sk| self.socket_info(sk));
                let infos: Vec<_> = infos.collect();
                gather.answer(infos);
            }
            Op::Join(room, gather) => {
                let selected = self.selected(r);
                for &sk in &selected {
                    self.sio.join(sk, room);
                }
                gather.answer([selected.len()]);
            }
            Op::Leave(room, gather) => {
                let selected = self.selected(r);
                for &sk in &selected {
                    self.sio.leave(sk, room);
                }
                gather.answer([selected.len()]);
            }
            Op::Disconnect(close, gather) => {
                let selected = self.selected(r);
                for &sk in &selected {
                    self.disconnect_by_server(sk, *close);
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
            Op::Remove(gather) => {
                let selected = self.selected(r);
                for &sk in &selected {
                    let reason = DisconnectReason::ServerNamespaceDisconnect;
                    self.disconnect_socket(sk, reason, true);
                }
                // Forgotten once no handler can see its sockets.
                self.dispatch();
                if let Some(ns) = self.sio.namespace(&r.nsp) {
                    self.sio.remove_namespace(ns);
                }
                gather.answer([selected.len()]);
            }
        }
        self.flush_room_events();
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
        let mut answers = Vec::new();
        for handler in handlers.into_iter().flatten() {
            answers.extend(handler(self, args));
        }
        if let Some(reply) = reply {
            reply.answer(answers);
        }
    }
}

/// The event name and arguments (a JSON array, binary values as their placeholders) of an
/// encoded Socket.IO EVENT (either parser's).
fn read_event(packets: &crate::socketio::Encoded) -> Option<(String, serde_json::Value)> {
    let (packet, _) = crate::socketio::read_encoded(packets)?;
    let mut values: Vec<serde_json::Value> =
        serde_json::from_slice(packet.data.as_deref()?).ok()?;
    if values.is_empty() {
        return None;
    }
    let name = match values.remove(0) {
        serde_json::Value::String(name) => name,
        _ => return None,
    };
    Some((name, serde_json::Value::Array(values)))
}
