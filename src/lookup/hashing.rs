//! Public hashes of the lookup tables: both parties compute them, the agency for its IOCs, the
//! server for its values. Per sub-table `t` one 256-bit hash `H_t(digest) = SHA-256("iocz lookup
//! position" ‖ seed ‖ t ‖ digest)`, read as a little-endian integer: its low `b` bits are the
//! value's position in sub-table t, and its nibbles above the position are the tag compared
//! there (equal position and tag = equal first `bits` bits of `H_t`: for `bits = 256`, equal
//! values unless SHA-256 collides — the digests themselves already rely on it).

use sha2::{Digest as _, Sha256};

use crate::digest::Digest;

/// `H_t(digest)` with the query's `seed`.
pub fn table_hash(seed: &[u8; 16], table: usize, digest: &Digest) -> [u8; 32] {
    Sha256::new()
        .chain_update(b"iocz lookup position")
        .chain_update(seed)
        .chain_update([table as u8])
        .chain_update(digest.0)
        .finalize()
        .into()
}

/// The low `bits` bits (≤ 64) of a table hash: the position in a sub-table of 2^bits positions.
pub fn position_of(hash: &[u8; 32], bits: u32) -> u64 {
    u64::from_le_bytes(hash[..8].try_into().expect("8 bytes")) & ((1u64 << bits) - 1)
}

/// Nibble `i` (bits 4i..4i+3) of a table hash.
pub fn nibble(hash: &[u8; 32], i: usize) -> u64 {
    u64::from((hash[i / 2] >> (4 * (i % 2))) & 15)
}

/// Position of `digest` in sub-table `table`, over `max_bits` bits.
pub fn position(seed: &[u8; 16], table: usize, digest: &Digest, max_bits: u32) -> u64 {
    position_of(&table_hash(seed, table, digest), max_bits)
}
