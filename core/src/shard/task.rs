//! Tasks: the futures of the application's async handlers, handed to the runtime to run on the
//! shard's own thread.
//!
//! The core never polls a task and never knows what one does: an async handler's future is
//! queued here ([`Shard::poll_task`] hands it out) and the runtime spawns it as a local task.
//! A task reaches its socket through a [`SocketRef`](crate::SocketRef), which borrows the
//! shard for the length of one call; the runtime drains the shard's outputs after every poll
//! of a task, so what the task did reaches the wire at once.
//!
//! For that the shard lives in an `Rc<RefCell<Shard>>` ([`Shard::into_shared`]) and keeps a
//! weak reference to itself. It is also registered for its thread, so that an
//! acknowledgement answered on the thread that owns the socket is written at once, in order
//! with the task's other emits, rather than going through the mesh.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::sync::Arc;

use super::Shard;
use crate::mesh::MeshPost;

/// A task for the runtime to spawn on the shard's thread.
pub type LocalTask = Pin<Box<dyn Future<Output = ()>>>;

/// A shard shared by the runtime and the tasks of its handlers.
pub type SharedShard = Rc<RefCell<Shard>>;

/// A shared shard of this thread: the mesh it belongs to, its index, and itself.
type LocalEntry = (usize, usize, Weak<RefCell<Shard>>);

thread_local! {
    /// The shared shards of this thread.
    static LOCAL: RefCell<Vec<LocalEntry>> = const { RefCell::new(Vec::new()) };
}

/// What identifies a mesh: the address of its poster.
pub(crate) fn mesh_key(post: &Arc<dyn MeshPost>) -> usize {
    Arc::as_ptr(post) as *const () as usize
}

/// The shard `index` of the mesh `key`, if it lives on this thread.
pub(crate) fn local_shard(key: usize, index: usize) -> Option<SharedShard> {
    LOCAL.with(|l| {
        let mut l = l.borrow_mut();
        l.retain(|(_, _, w)| w.strong_count() > 0);
        l.iter()
            .find(|&&(k, i, _)| k == key && i == index)
            .and_then(|(_, _, w)| w.upgrade())
    })
}

impl Shard {
    /// Puts the shard where the tasks of its handlers can reach it: the runtime keeps the
    /// `Rc`, borrows it for each input and each drain, and spawns what
    /// [`Shard::poll_task`] hands out. A shard used without this runs synchronous handlers
    /// only (an async handler's socket then answers "disconnected").
    pub fn into_shared(self) -> SharedShard {
        let shared = Rc::new_cyclic(|this| {
            let mut shard = self;
            shard.this = this.clone();
            RefCell::new(shard)
        });
        shared.borrow().register_local();
        shared
    }

    /// Registers this shard for its thread, once it is shared and knows its mesh.
    pub(super) fn register_local(&self) {
        let Some(post) = &self.post else {
            return;
        };
        if self.this.strong_count() == 0 {
            return;
        }
        let key = mesh_key(post);
        let entry = (key, self.index, self.this.clone());
        LOCAL.with(|l| l.borrow_mut().push(entry));
    }

    /// A task for the runtime to spawn on this shard's thread, if any.
    pub fn poll_task(&mut self) -> Option<LocalTask> {
        self.tasks.pop_front()
    }

    /// Queues a task of the application.
    pub(crate) fn spawn(&mut self, task: impl Future<Output = ()> + 'static) {
        self.tasks.push_back(Box::pin(task));
    }

    /// Does `f` for a task, then hands what it caused to the layers as after an input: a task
    /// polled is no input, yet what it did must reach the wire after that poll (a polling GET
    /// held for a socket it sent to is answered, a session it closed is reported). Every
    /// task's work on the shard goes through here.
    pub(crate) fn task_work<T>(&mut self, f: impl FnOnce(&mut Shard) -> T) -> T {
        let out = f(self);
        self.dispatch();
        out
    }

    /// The weak reference tasks reach the shard through.
    pub(crate) fn this(&self) -> Weak<RefCell<Shard>> {
        self.this.clone()
    }
}
