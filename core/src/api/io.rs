//! The handle any thread may emit with.

use std::sync::Arc;

use serde::Serialize;

use super::operator::{IoOperator, Remote};
use crate::mesh::MeshPost;
use crate::socketio::EmitError;

/// Emits to the sockets of every shard from any thread: a tokio task of another runtime, a
/// plain thread. Cheap to clone.
#[derive(Clone)]
pub struct Io {
    pub(crate) post: Arc<dyn MeshPost>,
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
        Io { post }
    }

    /// Broadcasts in namespace `nsp` (`io.of(nsp)`).
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

    /// Emits to every socket of `/` (`io.emit`).
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, args: &T) -> Result<(), EmitError> {
        self.of("/").emit(event, args)
    }
}
