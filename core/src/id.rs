//! Typed handles, and the slabs they index.
//!
//! Connection, session and socket ids carry the generation of the value they were made for,
//! so that a reused slot is never taken for the one it held before (h2's stream store does the
//! same). [`Slots`] is the one place where the generation is checked; [`SecondaryMap`] keeps
//! more values under the keys of a [`Slots`] (one layer's data about another layer's entity).
//! Namespace ids index the application's namespaces, which never change.

use std::fmt;
use std::marker::PhantomData;

use slab::Slab;

/// A handle into [`Slots`]: a slot index and the generation of the value it was made for.
pub(crate) trait Key: Copy + Eq + fmt::Debug {
    /// The handle of slot `index` holding generation `generation`.
    fn from_parts(index: u32, generation: u32) -> Self;
    /// The slot.
    fn index(self) -> usize;
    /// The generation of the value it was made for.
    fn generation(self) -> u32;
}

macro_rules! key {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name {
            index: u32,
            generation: u32,
        }

        impl Key for $name {
            fn from_parts(index: u32, generation: u32) -> Self {
                $name { index, generation }
            }
            fn index(self) -> usize {
                self.index as usize
            }
            fn generation(self) -> u32 {
                self.generation
            }
        }
    };
}

key!(
    /// A TCP connection of a shard. Ids of closed connections are never taken for new ones.
    ConnId
);
key!(
    /// An Engine.IO session of a shard.
    SessionId
);
key!(
    /// A Socket.IO socket of a shard: one client in one namespace.
    SocketId
);

/// A namespace of the application, by the order in which it was declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NsId(pub(crate) u32);

impl NsId {
    /// Its place among the application's namespaces.
    pub(crate) fn index(self) -> usize {
        self.0 as usize
    }
}

struct Slot<V> {
    generation: u32,
    value: V,
}

/// A slab whose handles are typed and generation-checked.
pub(crate) struct Slots<K, V> {
    slab: Slab<Slot<V>>,
    next_generation: u32,
    _key: PhantomData<K>,
}

impl<K, V> Default for Slots<K, V> {
    fn default() -> Self {
        Slots {
            slab: Slab::new(),
            next_generation: 0,
            _key: PhantomData,
        }
    }
}

impl<K: Key, V> Slots<K, V> {
    /// Stores `value`; its handle.
    pub(crate) fn insert(&mut self, value: V) -> K {
        let generation = self.next_generation;
        self.next_generation = generation.wrapping_add(1);
        let index = self.slab.insert(Slot { generation, value });
        K::from_parts(index as u32, generation)
    }

    /// The value of a live handle.
    pub(crate) fn get(&self, key: K) -> Option<&V> {
        match self.slab.get(key.index()) {
            Some(slot) if slot.generation == key.generation() => Some(&slot.value),
            _ => None,
        }
    }

    /// The value of a live handle, to change.
    pub(crate) fn get_mut(&mut self, key: K) -> Option<&mut V> {
        match self.slab.get_mut(key.index()) {
            Some(slot) if slot.generation == key.generation() => Some(&mut slot.value),
            _ => None,
        }
    }

    /// Whether a handle is live.
    pub(crate) fn contains(&self, key: K) -> bool {
        self.get(key).is_some()
    }

    /// Takes the value of a live handle out.
    pub(crate) fn remove(&mut self, key: K) -> Option<V> {
        self.get(key)?;
        Some(self.slab.remove(key.index()).value)
    }

    /// Number of values.
    pub(crate) fn len(&self) -> usize {
        self.slab.len()
    }

    /// Every value with its handle.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (K, &V)> + '_ {
        self.slab
            .iter()
            .map(|(i, slot)| (K::from_parts(i as u32, slot.generation), &slot.value))
    }

    /// The handles of the values `keep` selects.
    pub(crate) fn keys_where(&self, mut keep: impl FnMut(&V) -> bool) -> Vec<K> {
        self.iter()
            .filter(|(_, v)| keep(v))
            .map(|(k, _)| k)
            .collect()
    }
}

impl<K: Key, V> std::ops::Index<K> for Slots<K, V> {
    type Output = V;

    /// The value of a key the caller knows is live (checked or made in the same step).
    fn index(&self, key: K) -> &V {
        self.get(key).expect("a live key")
    }
}

impl<K: Key, V> std::ops::IndexMut<K> for Slots<K, V> {
    fn index_mut(&mut self, key: K) -> &mut V {
        self.get_mut(key).expect("a live key")
    }
}

/// More values under the keys of a [`Slots`] (at most one per live key).
pub(crate) struct SecondaryMap<K, V> {
    entries: Vec<Option<Slot<V>>>,
    _key: PhantomData<K>,
}

impl<K, V> Default for SecondaryMap<K, V> {
    fn default() -> Self {
        SecondaryMap {
            entries: Vec::new(),
            _key: PhantomData,
        }
    }
}

impl<K: Key, V> SecondaryMap<K, V> {
    /// Stores `value` under `key`, replacing what an older key of the same slot left.
    pub(crate) fn insert(&mut self, key: K, value: V) {
        let i = key.index();
        if self.entries.len() <= i {
            self.entries.resize_with(i + 1, || None);
        }
        self.entries[i] = Some(Slot {
            generation: key.generation(),
            value,
        });
    }

    /// The value under `key`.
    pub(crate) fn get(&self, key: K) -> Option<&V> {
        match self.entries.get(key.index()) {
            Some(Some(slot)) if slot.generation == key.generation() => Some(&slot.value),
            _ => None,
        }
    }

    /// The value under `key`, to change.
    pub(crate) fn get_mut(&mut self, key: K) -> Option<&mut V> {
        match self.entries.get_mut(key.index()) {
            Some(Some(slot)) if slot.generation == key.generation() => Some(&mut slot.value),
            _ => None,
        }
    }

    /// Takes the value under `key` out.
    pub(crate) fn remove(&mut self, key: K) -> Option<V> {
        self.get(key)?;
        self.entries[key.index()].take().map(|slot| slot.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reused_slot_is_not_taken_for_its_old_value() {
        let mut slots: Slots<ConnId, &str> = Slots::default();
        let a = slots.insert("a");
        assert_eq!(slots.remove(a), Some("a"));
        let b = slots.insert("b");
        assert_eq!(a.index(), b.index());
        assert_eq!(slots.get(a), None);
        assert_eq!(slots.remove(a), None);
        assert_eq!(slots.get(b), Some(&"b"));
        assert_eq!(slots.iter().map(|(k, _)| k).collect::<Vec<_>>(), vec![b]);

        let mut more: SecondaryMap<ConnId, u8> = SecondaryMap::default();
        more.insert(b, 1);
        assert_eq!(more.get(a), None);
        assert_eq!(more.get(b), Some(&1));
        assert_eq!(more.remove(a), None);
        assert_eq!(more.remove(b), Some(1));
        assert_eq!(more.get(b), None);
    }
}
