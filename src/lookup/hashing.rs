//! Public position hashes of the lookup tables: both parties compute them, the agency for
//! its IOCs, the server for its values.

use sha2::{Digest as _, Sha256};

use crate::digest::Digest;

/// Position of `digest` in sub-table `table` (0..3), over `max_bits` bits: the low `b` bits
/// are its position in a sub-table of 2^b positions (b ≤ max_bits).
pub fn position(seed: &[u8; 16], table: usize, digest: &Digest, max_bits: u32) -> u64 {
    let h = Sha256::new()
        .chain_update(b"iocz lookup position")
        .chain_update(seed)
        .chain_update([table as u8])
        .chain_update(digest.0)
        .finalize();
    u64::from_le_bytes(h[..8].try_into().expect("8 bytes")) & ((1u64 << max_bits) - 1)
}
