//! Process-wide registries of the bindings: loaded keys, sets and manifests, found by
//! fingerprint (expressions carry only fingerprints, never key bytes), and the selector cache
//! shared by every plugin call. Locks are held only to look up or insert, never across FHE work.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, RwLock};

use crate::error::{Error, Result};
use crate::ioc::DomainMatch;
use crate::keys::{PublicKey, ServerKey};
use crate::query::membership::SetQuery;
use crate::query::options::MatchOptions;
use crate::query::selector_cache::SelectorCache;
use crate::set::{EncryptedSet, Manifest};
use crate::wire::ids::{parse_set_id, KeyId, SetId};

type Registry<K, V> = LazyLock<RwLock<HashMap<K, Arc<V>>>>;

static SERVER_KEYS: Registry<KeyId, ServerKey> = LazyLock::new(Default::default);
static PUBLIC_KEYS: Registry<KeyId, PublicKey> = LazyLock::new(Default::default);
static SETS: Registry<SetId, EncryptedSet> = LazyLock::new(Default::default);
static MANIFESTS: Registry<SetId, Manifest> = LazyLock::new(Default::default);
static SELECTORS: LazyLock<SelectorCache> = LazyLock::new(SelectorCache::default);

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

/// The manifest of set `id`, created or loaded by the agency in this process.
pub fn manifest(id: SetId) -> Result<Arc<Manifest>> {
    get(&MANIFESTS, &id).ok_or_else(|| {
        Error::KeyNotLoaded(format!(
            "per-IOC counts of set {}: its manifest is not loaded; call \
             iocz.EncryptedSet.load_manifest(path) first",
            hex::encode(id)
        ))
    })
}

/// The selector cache shared by every plugin call of the process.
pub fn selectors() -> &'static SelectorCache {
    &SELECTORS
}

/// Run `f` on the query over loaded set `set` (hex id) with its loaded server key, domain match
/// `mode`, comparison settings and `kernel` (`auto`, `scan`, `lookup`), checked to fit together.
pub fn with_set_query<T>(
    set: &str,
    bits: usize,
    digit_bits: usize,
    mode: &str,
    kernel: &str,
    f: impl FnOnce(SetQuery<'_>) -> Result<T>,
) -> Result<T> {
    let set = self::set(parse_set_id(set)?)?;
    let sk = server_key(set.key)?;
    let options = MatchOptions::new(bits, digit_bits)?.with_kernel(kernel)?;
    f(SetQuery::new(
        &set,
        &sk,
        selectors(),
        DomainMatch::from_name(mode)?,
        options,
    )?)
}
