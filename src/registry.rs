//! Process-wide registries of loaded keys and computed selector tables. Expressions carry only
//! key fingerprints; the keys themselves are loaded once here. Locks are held only to look up or
//! insert, never across FHE work.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, RwLock};

use sha2::{Digest as _, Sha256};

use crate::ciphertexts;
use crate::envelope::KeyId;
use crate::error::{Error, Result};
use crate::kernels::selectors::{DigitBits, Selectors};
use crate::keys::{PublicKey, ServerKey};
use crate::set::{EncryptedSet, Manifest, SetId};

static SERVER_KEYS: Registry<KeyId, ServerKey> = LazyLock::new(Default::default);
static PUBLIC_KEYS: Registry<KeyId, PublicKey> = LazyLock::new(Default::default);
static SETS: Registry<SetId, EncryptedSet> = LazyLock::new(Default::default);
static MANIFESTS: Registry<SetId, Manifest> = LazyLock::new(Default::default);

/// Selector ciphertexts kept for reuse across calls (group_by calls a plugin once per group):
/// about 800 MB (a 4-bit table holds 1,024, a 2-bit one 512); least recently used evicted first.
const SELECTOR_CACHE_CIPHERTEXTS: usize = 48 * 1024;
/// Cached table: (hash of the encrypted value, digit width, bits covered).
type SelectorKey = ([u8; 32], DigitBits, usize);
/// Cached tables, least recently used first.
type SelectorCache = Vec<(SelectorKey, Arc<Selectors>)>;
static SELECTORS: LazyLock<Mutex<SelectorCache>> = LazyLock::new(Default::default);

type Registry<K, V> = LazyLock<RwLock<HashMap<K, Arc<V>>>>;

fn insert<K: std::hash::Hash + Eq, V>(registry: &Registry<K, V>, key: K, value: Arc<V>) {
    registry
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .insert(key, value);
}

fn get<K: std::hash::Hash + Eq, V>(registry: &Registry<K, V>, key: &K) -> Option<Arc<V>> {
    registry
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .get(key)
        .cloned()
}

fn not_loaded(what: &str, id: impl std::fmt::Display, loader: &str) -> Error {
    Error::KeyNotLoaded(format!(
        "no {what} {id} is loaded in this process; load it first with iocz.{loader}(path)"
    ))
}

/// Make a server key available to expressions by its fingerprint (replaces an earlier one).
pub fn add_server_key(key: Arc<ServerKey>) {
    insert(&SERVER_KEYS, key.id(), key);
}

/// Make a public key available to expressions by its fingerprint.
pub fn add_public_key(key: Arc<PublicKey>) {
    insert(&PUBLIC_KEYS, key.id(), key);
}

/// Make an encrypted IOC set available to expressions by its id.
pub fn add_set(set: Arc<EncryptedSet>) {
    insert(&SETS, set.id, set);
}

/// Remember the agency's manifest of a set (to map per-slot counts back to IOCs).
pub fn add_manifest(manifest: Arc<Manifest>) {
    insert(&MANIFESTS, manifest.id, manifest);
}

/// The loaded server key with fingerprint `id`.
pub fn server_key(id: KeyId) -> Result<Arc<ServerKey>> {
    get(&SERVER_KEYS, &id)
        .ok_or_else(|| not_loaded("server key with fingerprint", id, "ServerKey.load"))
}

/// The loaded public key with fingerprint `id`.
pub fn public_key(id: KeyId) -> Result<Arc<PublicKey>> {
    get(&PUBLIC_KEYS, &id)
        .ok_or_else(|| not_loaded("public key with fingerprint", id, "PublicKey.load"))
}

/// The loaded encrypted IOC set with id `id`.
pub fn set(id: SetId) -> Result<Arc<EncryptedSet>> {
    get(&SETS, &id)
        .ok_or_else(|| not_loaded("encrypted IOC set", hex::encode(id), "EncryptedSet.load"))
}

/// The manifest of set `id`, if the agency created or loaded it in this process.
pub fn manifest(id: SetId) -> Option<Arc<Manifest>> {
    get(&MANIFESTS, &id)
}

/// The selectors of the encrypted value `value_bytes`, computed at most once while cached.
/// `bits: None` reuses a cached table of either width (covering at least `compare_bits`), or
/// builds the one cheapest for `comparisons` comparisons of `compare_bits` bits, covering
/// just those bits. Returns the value's key id too.
pub fn selectors(
    value_bytes: &[u8],
    bits: Option<DigitBits>,
    comparisons: usize,
    compare_bits: usize,
) -> Result<(KeyId, Arc<Selectors>)> {
    let (header, _) = crate::envelope::peek(value_bytes)?;
    let hash: [u8; 32] = Sha256::digest(value_bytes).into();
    {
        let mut cache = lock_selectors();
        if let Some(pos) = cache.iter().position(|((h, w, covered), _)| {
            *h == hash && bits.is_none_or(|b| b == *w) && *covered >= compare_bits
        }) {
            let entry = cache.remove(pos);
            let table = entry.1.clone();
            cache.push(entry); // most recently used last
            return Ok((header.key, table));
        }
    }
    let (id, radix) = ciphertexts::value_radix(value_bytes)?;
    let bits = bits.unwrap_or_else(|| DigitBits::cheapest(comparisons, compare_bits));
    let sk = server_key(id)?;
    let table = Arc::new(Selectors::new(sk.shortint(), &radix, bits, compare_bits));
    let mut cache = lock_selectors();
    cache.push(((hash, bits, compare_bits), table.clone()));
    let mut held: usize = cache.iter().map(|(_, t)| t.len()).sum();
    while held > SELECTOR_CACHE_CIPHERTEXTS && cache.len() > 1 {
        held -= cache.remove(0).1.len();
    }
    Ok((id, table))
}

/// Slot tables of a loaded set, served from the selector cache.
pub struct CachedSlotSelectors<'a> {
    /// The set.
    pub set: &'a EncryptedSet,
    /// Fixed digit width, or None for the cheapest.
    pub bits: Option<DigitBits>,
    /// Bits compared.
    pub compare_bits: usize,
}

impl crate::kernels::set_matching::SlotSelectors for CachedSlotSelectors<'_> {
    fn selectors(&self, slot: usize, comparisons: usize) -> Arc<Selectors> {
        selectors(
            &self.set.slots[slot],
            self.bits,
            comparisons,
            self.compare_bits,
        )
        .expect("slots are validated when a set is built or loaded")
        .1
    }
}

fn lock_selectors() -> MutexGuard<'static, SelectorCache> {
    SELECTORS.lock().unwrap_or_else(|e| e.into_inner())
}
