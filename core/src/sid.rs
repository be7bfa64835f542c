//! Session and socket ids: 20 URL-safe characters, 108 random bits, naming the owning shard.

use rand::{rngs::StdRng, RngCore, SeedableRng};

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Length of every id.
pub const ID_LEN: usize = 20;

/// The most shards an id can name (two characters of 6 bits).
pub const MAX_SHARDS: usize = 64 * 64;

/// Generates ids from a CSPRNG seeded from the operating system.
#[derive(Debug)]
pub struct IdGenerator {
    rng: StdRng,
    shard: [u8; 2],
}

impl IdGenerator {
    /// A generator for ids owned by `shard` (below [`MAX_SHARDS`]).
    pub fn new(shard: usize) -> Self {
        Self::with_rng(shard, StdRng::from_entropy())
    }

    /// A generator with a fixed seed, for reproducible tests.
    pub fn seeded(shard: usize, seed: u64) -> Self {
        Self::with_rng(shard, StdRng::seed_from_u64(seed))
    }

    fn with_rng(shard: usize, rng: StdRng) -> Self {
        assert!(shard < MAX_SHARDS, "shard index out of range");
        IdGenerator {
            rng,
            shard: [ALPHABET[shard >> 6], ALPHABET[shard & 63]],
        }
    }

    /// A new id: two characters naming the shard, then 18 random characters (108 bits).
    pub fn next_id(&mut self) -> String {
        let mut raw = [0u8; 18];
        self.rng.fill_bytes(&mut raw);
        let mut id = String::with_capacity(ID_LEN);
        id.push(self.shard[0] as char);
        id.push(self.shard[1] as char);
        for b in raw {
            id.push(ALPHABET[(b & 63) as usize] as char);
        }
        // Two more bits per byte are wasted; 18 * 6 = 108 bits of entropy remain.
        id
    }
}

/// The shard that owns an id, when the id is well formed.
pub fn shard_of(id: &str) -> Option<usize> {
    let b = id.as_bytes();
    if b.len() != ID_LEN {
        return None;
    }
    let hi = ALPHABET.iter().position(|&c| c == b[0])?;
    let lo = ALPHABET.iter().position(|&c| c == b[1])?;
    Some(hi << 6 | lo)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_url_safe_unique_and_name_their_shard() {
        for shard in [0usize, 1, 63, 64, 4095] {
            let mut gen = IdGenerator::new(shard);
            let mut seen = std::collections::HashSet::new();
            for _ in 0..1000 {
                let id = gen.next_id();
                assert_eq!(id.len(), ID_LEN);
                assert!(id.bytes().all(|c| ALPHABET.contains(&c)));
                assert_eq!(shard_of(&id), Some(shard));
                assert!(seen.insert(id));
            }
        }
        assert_eq!(shard_of("short"), None);
        assert_eq!(shard_of("!!AAAAAAAAAAAAAAAAAA"), None);
    }
}
