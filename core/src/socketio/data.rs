//! A socket's application data (Node's `socket.data`): one typed value, set by middlewares
//! and handlers, serializable so that `fetch_sockets` can carry it to any shard (and, with
//! an adapter, to other servers).

use std::any::Any;

use serde::Serialize;

/// A typed value and the way to serialize it without knowing its type.
pub(crate) struct Data {
    value: Box<dyn Any>,
    to_json: fn(&dyn Any) -> serde_json::Value,
}

impl Data {
    pub(crate) fn new<T: Serialize + 'static>(value: T) -> Data {
        Data {
            value: Box::new(value),
            to_json: |v| {
                v.downcast_ref::<T>()
                    .and_then(|v| serde_json::to_value(v).ok())
                    .unwrap_or_default()
            },
        }
    }

    /// The value, when it is a `T`.
    pub(crate) fn get<T: 'static>(&self) -> Option<&T> {
        self.value.downcast_ref()
    }

    /// The value, when it is a `T`, to change in place.
    pub(crate) fn get_mut<T: 'static>(&mut self) -> Option<&mut T> {
        self.value.downcast_mut()
    }

    /// The value as JSON (`null` when it does not serialize).
    pub(crate) fn to_json(&self) -> serde_json::Value {
        (self.to_json)(&*self.value)
    }
}
