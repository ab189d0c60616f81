//! Selector tables kept for reuse across calls: `group_by` calls a plugin once per group, and
//! every call would otherwise rebuild the same slots' selectors (hundreds of PBS each).

use std::sync::{Arc, Mutex, MutexGuard};

use sha2::{Digest as _, Sha256};

use crate::ciphertexts;
use crate::error::Result;
use crate::kernels::selectors::{DigitBits, Selectors};
use crate::kernels::set_matching::SlotSelectors;
use crate::keys::ServerKey;
use crate::query::options::MatchOptions;
use crate::set::EncryptedSet;
use crate::wire::envelope::{check_key, Kind};

/// Selector ciphertexts a default cache holds: about 800 MB (a 4-bit table holds 1,024, a
/// 2-bit one 512).
pub const DEFAULT_CAPACITY: usize = 48 * 1024;

/// Cached table: (hash of the encrypted value, digit width, bits covered).
type Entry = (([u8; 32], DigitBits, usize), Arc<Selectors>);

/// A bounded cache of selector tables, least recently used evicted first. Locks are held only
/// to look up or insert, never across FHE work.
pub struct SelectorCache {
    capacity: usize,
    entries: Mutex<Vec<Entry>>,
}

impl Default for SelectorCache {
    fn default() -> Self {
        SelectorCache::new(DEFAULT_CAPACITY)
    }
}

impl SelectorCache {
    /// A cache holding at most `capacity` selector ciphertexts (at least one table).
    pub fn new(capacity: usize) -> SelectorCache {
        SelectorCache {
            capacity,
            entries: Mutex::new(Vec::new()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Entry>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The selectors of the encrypted value `value` (made under `sk`'s key), computed at most
    /// once while cached. Without a fixed width, reuses a cached table of either width
    /// (covering at least `options.bits`) or builds the one cheapest for `comparisons`
    /// comparisons, covering just those bits.
    pub fn selectors(
        &self,
        sk: &ServerKey,
        value: &[u8],
        options: MatchOptions,
        comparisons: usize,
    ) -> Result<Arc<Selectors>> {
        let hash: [u8; 32] = Sha256::digest(value).into();
        let bits = options.bits;
        {
            let mut cache = self.lock();
            if let Some(pos) = cache.iter().position(|((h, w, covered), _)| {
                *h == hash && options.digits.is_none_or(|d| d == *w) && *covered >= bits
            }) {
                let entry = cache.remove(pos);
                let table = entry.1.clone();
                cache.push(entry); // most recently used last
                return Ok(table);
            }
        }
        let (id, radix) = ciphertexts::value_radix(value)?;
        check_key(id, sk.id(), Kind::Value)?;
        let width = options
            .digits
            .unwrap_or_else(|| DigitBits::cheapest(comparisons, bits));
        let table = Arc::new(Selectors::new(sk.shortint(), &radix, width, bits));
        if crate::interrupt::stopped() {
            // Built while a stop skipped bootstraps: never kept (the work is being discarded).
            return Ok(table);
        }
        let mut cache = self.lock();
        cache.push(((hash, width, bits), table.clone()));
        let mut held: usize = cache.iter().map(|(_, t)| t.len()).sum();
        while held > self.capacity && cache.len() > 1 {
            held -= cache.remove(0).1.len();
        }
        Ok(table)
    }
}

/// The slot tables of a set, served from a [`SelectorCache`].
pub struct CachedSlotSelectors<'a> {
    /// The cache.
    pub cache: &'a SelectorCache,
    /// The set's server key.
    pub sk: &'a ServerKey,
    /// The set.
    pub set: &'a EncryptedSet,
    /// Comparison settings.
    pub options: MatchOptions,
}

impl SlotSelectors for CachedSlotSelectors<'_> {
    fn selectors(&self, slot: usize, comparisons: usize) -> Arc<Selectors> {
        self.cache
            .selectors(self.sk, &self.set.slots[slot], self.options, comparisons)
            .expect("slots are validated when a set is built or loaded")
    }
}
