//! Public hashes of the filter kernel: both parties compute them, the agency for its IOCs, the
//! server for its values. From one 256-bit location hash `L(d) = SHA-256("iocz filter
//! location" ‖ seed ‖ d)`: the value's [`BIN_HASHES`] candidate bins, its window word and its
//! [`SUMMANDS`] cell positions inside a 2048-cell window (one per 512-cell segment, so they
//! never coincide). From a second hash `T(d) = SHA-256("iocz filter tag" ‖ seed ‖ d)`: the tag,
//! compared in 5-bit chunks (equal tags over all 256 bits = equal digests unless SHA-256
//! collides; over `5·c` bits a false match has probability 2^-5c).

use sha2::{Digest as _, Sha256};

use crate::digest::Digest;
use crate::lookup::{BIN_HASHES, SEGMENT, SUMMANDS, TAG_CHUNKS};

/// Where a value lives in the filter structure (public: a function of the digest and seed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Location {
    /// Hash words choosing the candidate bins (`word % bins`).
    pub bin_words: [u32; BIN_HASHES],
    /// Window word: its low `w` bits choose the window inside a bin.
    pub window: u32,
    /// Cell positions inside the window, one per segment: `j·512 + offset`.
    pub cells: [u16; SUMMANDS],
}

impl Location {
    /// The value's distinct candidate bins among `bins`.
    pub fn bins(&self, bins: usize) -> Vec<usize> {
        let mut out: Vec<usize> = self.bin_words.iter().map(|&w| w as usize % bins).collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The window index for `window_bits` bits.
    pub fn window(&self, window_bits: u32) -> usize {
        (self.window & ((1u32 << window_bits) - 1)) as usize
    }
}

/// `L(d)` read as a [`Location`].
pub fn location(seed: &[u8; 16], digest: &Digest) -> Location {
    let h: [u8; 32] = Sha256::new()
        .chain_update(b"iocz filter location")
        .chain_update(seed)
        .chain_update(digest.0)
        .finalize()
        .into();
    let word = |i: usize| u32::from_le_bytes(h[4 * i..4 * i + 4].try_into().expect("4 bytes"));
    let offsets = u64::from_le_bytes(h[20..28].try_into().expect("8 bytes"));
    Location {
        bin_words: std::array::from_fn(word),
        window: word(4),
        cells: std::array::from_fn(|j| {
            (j * SEGMENT + ((offsets >> (9 * j)) as usize % SEGMENT)) as u16
        }),
    }
}

/// The 5-bit tag chunks of `T(d)` (chunk `i` = bits `5i .. 5i+4`; the last holds bit 255).
pub fn tag_chunks(seed: &[u8; 16], digest: &Digest) -> [u8; TAG_CHUNKS] {
    let h: [u8; 32] = Sha256::new()
        .chain_update(b"iocz filter tag")
        .chain_update(seed)
        .chain_update(digest.0)
        .finalize()
        .into();
    let bit = |b: usize| {
        if b < 256 {
            (h[b / 8] >> (b % 8)) & 1
        } else {
            0
        }
    };
    std::array::from_fn(|i| (0..5).fold(0u8, |acc, k| acc | (bit(5 * i + k) << k)))
}

/// Tag chunks compared for `bits` compared bits (64 → 13 chunks, 65 bits; 256 → all 52).
pub fn chunks_for(bits: usize) -> usize {
    bits.div_ceil(5).min(TAG_CHUNKS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_fall_in_their_segments_and_chunks_cover_the_tag() {
        let seed = [3u8; 16];
        for i in 0..200u8 {
            let d = Digest([i; 32]);
            let l = location(&seed, &d);
            for (j, &c) in l.cells.iter().enumerate() {
                assert_eq!(c as usize / SEGMENT, j);
            }
            assert!(l.bins(5).iter().all(|&b| b < 5));
            let t = tag_chunks(&seed, &d);
            assert!(t.iter().all(|&c| c < 32));
            assert!(t[TAG_CHUNKS - 1] < 2, "the last chunk holds bit 255 only");
        }
        assert_eq!(
            (chunks_for(64), chunks_for(128), chunks_for(256)),
            (13, 26, 52)
        );
    }
}
