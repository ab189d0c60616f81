//! Server-side arithmetic on sealed counts: adding partial results (scan partitions,
//! checkpoints), totalling per-IOC counts, and releasing the final counts (refreshed and
//! compressed, see [`crate::kernels::release`]). Everything read is checked (kind, key, set,
//! parameters) before any FHE work. Sums are partial counts: blocks that are trivially zero in
//! every input stay trivial (no PBS), since nothing leaves the company unreleased.

use tfhe::integer::{IntegerCiphertext, RadixCiphertext};

use crate::ciphertexts;
use crate::error::{Error, Result};
use crate::kernels::{self, counter, counter::sum_counts};
use crate::keys::ServerKey;
use crate::params;
use crate::released::{Layout, TotalKind};
use crate::wire::envelope::{self, check_key, Kind};
use crate::wire::ids::{KeyId, SetId};

/// Most items [`add`] combines in one call.
pub const MAX_ITEMS: usize = 1 << 16;

fn count_radix(bytes: &[u8], key: &ServerKey) -> Result<RadixCiphertext> {
    let (id, count) = ciphertexts::open_count(bytes)?;
    check_key(id, key.id(), Kind::Count)?;
    Ok(count.into_raw_parts().0)
}

fn counts_radix(bytes: &[u8], key: &ServerKey) -> Result<(SetId, Vec<RadixCiphertext>)> {
    let (id, set, counts) = ciphertexts::open_counts(bytes)?;
    check_key(id, key.id(), Kind::Counts)?;
    let zero = || {
        let block = crate::kernels::counter::trivial_zero(key.shortint());
        RadixCiphertext::from(vec![block; params::COUNT_BLOCKS])
    };
    Ok((
        set,
        counts
            .into_iter()
            .map(|c| c.map_or_else(zero, |c| c.into_raw_parts().0))
            .collect(),
    ))
}

/// Encrypted element-wise sum of sealed counts, all of one kind: counts (`count`) or per-IOC
/// counts of one set (`counts`, summed slot by slot).
pub fn add(key: &ServerKey, items: &[Vec<u8>]) -> Result<Vec<u8>> {
    if items.is_empty() || items.len() > MAX_ITEMS {
        return Err(Error::InvalidInput(format!(
            "add needs 1 to {MAX_ITEMS} encrypted counts, got {}",
            items.len()
        )));
    }
    if items.iter().all(Vec::is_empty) {
        // Totals the agency sums itself (gated lookup counts of one-candidate types).
        return Ok(Vec::new());
    }
    let (header, _) = envelope::peek(&items[0])?;
    let sks = key.integer();
    match header.kind {
        Kind::Gated => merge_gated(key, items),
        Kind::Count => {
            let radixes = items
                .iter()
                .map(|b| count_radix(b, key))
                .collect::<Result<Vec<_>>>()?;
            let sum = sum_counts(sks, &radixes, None);
            ciphertexts::seal_count(key.id(), &sum)
        }
        Kind::Counts => {
            let lists = items
                .iter()
                .map(|b| counts_radix(b, key))
                .collect::<Result<Vec<_>>>()?;
            let (set, first) = &lists[0];
            if let Some((other, _)) = lists
                .iter()
                .find(|(s, c)| s != set || c.len() != first.len())
            {
                return Err(Error::InvalidInput(format!(
                    "per-IOC counts of different sets ({} and {}) cannot be added",
                    hex::encode(set),
                    hex::encode(other)
                )));
            }
            let sums: Vec<RadixCiphertext> = (0..first.len())
                .map(|slot| {
                    let column: Vec<RadixCiphertext> =
                        lists.iter().map(|(_, c)| c[slot].clone()).collect();
                    sum_counts(sks, &column, None)
                })
                .collect();
            ciphertexts::seal_counts(key.id(), *set, &sums)
        }
        other => Err(Error::InvalidInput(format!(
            "only encrypted counts can be added, not {}",
            other.describe()
        ))),
    }
}

fn gated_radix(bytes: &[u8], key: &ServerKey) -> Result<(SetId, Vec<Option<RadixCiphertext>>)> {
    let (id, set, counts) = ciphertexts::open_gated(bytes)?;
    check_key(id, key.id(), Kind::Gated)?;
    Ok((
        set,
        counts
            .into_iter()
            .map(|c| c.map(|c| c.into_raw_parts().0))
            .collect(),
    ))
}

/// Gated per-bin counts of several partitions (bin ranges): each bin is counted by exactly one
/// of them (the others hold an empty entry), so the merge takes it as it is (no PBS).
fn merge_gated(key: &ServerKey, items: &[Vec<u8>]) -> Result<Vec<u8>> {
    let lists = items
        .iter()
        .map(|b| gated_radix(b, key))
        .collect::<Result<Vec<_>>>()?;
    let (set, first) = &lists[0];
    if lists
        .iter()
        .any(|(s, c)| s != set || c.len() != first.len())
    {
        return Err(Error::InvalidInput(
            "gated lookup counts of different sets or bin counts cannot be merged".into(),
        ));
    }
    let zero = || {
        let block = crate::kernels::counter::trivial_zero(key.shortint());
        RadixCiphertext::from(vec![block; params::COUNT_BLOCKS])
    };
    let merged = (0..first.len())
        .map(|bin| {
            let mut found = lists.iter().filter_map(|(_, c)| c[bin].as_ref());
            match (found.next(), found.next()) {
                (Some(c), None) => Ok(c.clone()),
                (None, _) => Ok(zero()),
                (Some(_), Some(_)) => Err(Error::InvalidInput(format!(
                    "lookup bin {bin} was counted by two partitions"
                ))),
            }
        })
        .collect::<Result<Vec<_>>>()?;
    ciphertexts::seal_gated(key.id(), *set, &merged)
}

/// Encrypted sum of all slots of sealed per-IOC counts (rows matching some IOC, when every row
/// has at most one candidate). Returns a sealed count; for gated per-bin lookup counts an empty
/// object: the agency sums the released counts itself (no extra release).
pub fn total(key: &ServerKey, counts: &[u8]) -> Result<Vec<u8>> {
    if envelope::peek(counts)?.0.kind == Kind::Gated {
        gated_radix(counts, key)?;
        return Ok(Vec::new());
    }
    let (_, slots) = counts_radix(counts, key)?;
    if slots.is_empty() {
        return Err(Error::InvalidInput(
            "per-IOC counts of an empty set have no total".into(),
        ));
    }
    ciphertexts::seal_count(key.id(), &sum_counts(key.integer(), &slots, None))
}

/// Release the final counts of one (set, column, group): sealed per-IOC counts and their sealed
/// total become one compressed object of `bits`-bit counts ([`crate::released`]), every block
/// re-randomised and refreshed ([`crate::kernels::release`]). `max_rows` (the rows scanned,
/// public) decides whether a count could exceed `2^bits − 1` and must saturate. An empty
/// `total` releases none: the agency sums the per-IOC counts when `one_candidate` (every row
/// has at most one candidate), else the rows matching any IOC were not counted.
pub fn release(
    key: &ServerKey,
    per_ioc: &[u8],
    total: &[u8],
    bits: usize,
    max_rows: u64,
    one_candidate: bool,
) -> Result<Vec<u8>> {
    if !params::RELEASE_WIDTHS.contains(&bits) {
        return Err(Error::InvalidInput(format!(
            "count width must be one of {:?} bits, not {bits}",
            params::RELEASE_WIDTHS
        )));
    }
    let saturate = max_rows > (1u64 << bits) - 1;
    if saturate && bits == params::COUNT_BITS {
        return Err(Error::InvalidInput(format!(
            "{max_rows} rows exceed what {bits}-bit counts can hold"
        )));
    }
    let kind = match (total.is_empty(), one_candidate) {
        (false, _) => TotalKind::Released,
        (true, true) => TotalKind::Summed,
        (true, false) => TotalKind::Uncounted,
    };
    if envelope::peek(per_ioc)?.0.kind == Kind::Gated {
        return release_gated(key, per_ioc, total, kind, bits, saturate);
    }
    let (set, mut counts) = counts_radix(per_ioc, key)?;
    if kind == TotalKind::Released {
        counts.push(count_radix(total, key)?);
    }
    let released = kernels::release::release(
        key.shortint(),
        key.rerandomization(),
        &counts,
        bits,
        saturate,
    );
    let layout = Layout {
        per_bin: false,
        total: kind,
    };
    crate::released::seal(key.id(), set, bits, &released, layout, key.compression())
}

/// Release gated per-bin lookup counts: their first `bits / 2` blocks are already released
/// (re-randomised and bootstrapped by the gate; the weights were clamped in the clear, so no
/// saturation step); every bin must have been counted. `total`: a sealed count (released as
/// usual, for several-candidate types) or empty (`kind` says why).
fn release_gated(
    key: &ServerKey,
    per_ioc: &[u8],
    total: &[u8],
    kind: TotalKind,
    bits: usize,
    saturate: bool,
) -> Result<Vec<u8>> {
    let (set, bins) = gated_radix(per_ioc, key)?;
    let keep = bits / 2;
    let mut counts = bins
        .into_iter()
        .enumerate()
        .map(|(b, c)| {
            let c =
                c.ok_or_else(|| Error::InvalidInput(format!("lookup bin {b} was never counted")))?;
            let blocks = c.blocks();
            if blocks[..keep].iter().any(counter::is_trivial_zero)
                || !blocks[keep..].iter().all(counter::is_trivial_zero)
            {
                return Err(Error::InvalidInput(format!(
                    "lookup bin {b} was not counted at the query's {bits}-bit width"
                )));
            }
            Ok(RadixCiphertext::from(blocks[..keep].to_vec()))
        })
        .collect::<Result<Vec<_>>>()?;
    if kind == TotalKind::Released {
        let released = kernels::release::release(
            key.shortint(),
            key.rerandomization(),
            &[count_radix(total, key)?],
            bits,
            saturate,
        );
        counts.extend(released);
    }
    let layout = Layout {
        per_bin: true,
        total: kind,
    };
    crate::released::seal(key.id(), set, bits, &counts, layout, key.compression())
}

/// The key a sealed object was made under, without reading its payload.
pub fn key_of(bytes: &[u8]) -> Result<KeyId> {
    Ok(envelope::peek(bytes)?.0.key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::Decrypted;
    use crate::test_keys::keys;

    /// Partial counts (scan partitions, checkpoints) add up slot by slot and in total.
    #[test]
    fn sealed_counts_add_and_total() {
        let k = keys();
        let id = k.client.id();
        let count = |n: u64| {
            let ct = k
                .client
                .integer()
                .encrypt_radix(n, crate::params::COUNT_BLOCKS);
            ciphertexts::seal_count(id, &ct).unwrap()
        };
        let sum = add(&k.server, &[count(3), count(40), count(0)]).unwrap();
        assert!(matches!(
            k.client.decrypt(&sum).unwrap(),
            Decrypted::Count(43)
        ));
        let counts = |ns: &[u64], set: [u8; 8]| {
            let cts: Vec<_> = ns
                .iter()
                .map(|&n| {
                    k.client
                        .integer()
                        .encrypt_radix(n, crate::params::COUNT_BLOCKS)
                })
                .collect();
            ciphertexts::seal_counts(id, set, &cts).unwrap()
        };
        let per_slot = add(
            &k.server,
            &[counts(&[1, 2], [7; 8]), counts(&[10, 0], [7; 8])],
        );
        match k.client.decrypt(&per_slot.unwrap()).unwrap() {
            Decrypted::Counts { set, per_slot } => {
                assert_eq!((set, per_slot), ([7; 8], vec![11, 2]))
            }
            other => panic!("{other:?}"),
        }
        let total = total(&k.server, &counts(&[5, 6, 7], [7; 8])).unwrap();
        assert!(matches!(
            k.client.decrypt(&total).unwrap(),
            Decrypted::Count(18)
        ));
        let mixed = add(&k.server, &[counts(&[1], [7; 8]), counts(&[1], [8; 8])]);
        assert!(mixed.unwrap_err().to_string().contains("different sets"));
        assert!(add(&k.server, &[counts(&[1], [7; 8]), count(1)]).is_err());
        assert!(add(&k.server, &[]).is_err());
        // Trivial zero counts (untouched slots of a group) are written as empty entries.
        let zero = tfhe::integer::RadixCiphertext::from(vec![
            crate::kernels::counter::trivial_zero(
                k.server.shortint()
            );
            crate::params::COUNT_BLOCKS
        ]);
        let four = k
            .client
            .integer()
            .encrypt_radix(4u64, crate::params::COUNT_BLOCKS);
        let sparse = ciphertexts::seal_counts(id, [7; 8], &[zero.clone(), four, zero]).unwrap();
        let one = count(0).len();
        assert!(sparse.len() < one + 100, "{} vs {one}", sparse.len());
        let summed = add(&k.server, &[sparse.clone(), sparse]).unwrap();
        match k.client.decrypt(&summed).unwrap() {
            Decrypted::Counts { per_slot, .. } => assert_eq!(per_slot, [0, 8, 0]),
            other => panic!("{other:?}"),
        }
    }

    /// Released counts decrypt to the counts (32 bits), saturate at 16 bits when more rows than
    /// that were scanned, stay under 1 KB per count, and refuse bad widths and tampering.
    #[test]
    fn released_counts_round_trip_narrow_and_saturate() {
        let k = keys();
        let id = k.client.id();
        let radix = |n: u64| {
            k.client
                .integer()
                .encrypt_radix(n, crate::params::COUNT_BLOCKS)
        };
        let per_ioc = |ns: &[u64]| {
            let cts: Vec<_> = ns.iter().map(|&n| radix(n)).collect();
            ciphertexts::seal_counts(id, [7; 8], &cts).unwrap()
        };
        let total = |n: u64| ciphertexts::seal_count(id, &radix(n)).unwrap();
        let released = |slots: &[u64], t: u64, bits: usize, rows: u64| {
            let bytes = release(&k.server, &per_ioc(slots), &total(t), bits, rows, true).unwrap();
            (k.client.decrypt(&bytes).unwrap(), bytes)
        };
        let expect = |bits: usize, per_slot: &[u64], total: u64| Decrypted::Released {
            set: [7; 8],
            bits,
            per_bin: false,
            per_slot: per_slot.to_vec(),
            total: Some(total),
        };
        let (wide, bytes) = released(&[0, 5, 70_000, 3], 70_008, 32, 70_008);
        assert_eq!(wide, expect(32, &[0, 5, 70_000, 3], 70_008));
        assert!(bytes.len() < 5 * 1024, "{} bytes for 5 counts", bytes.len());
        let (narrow, _) = released(&[0, 5, 70_000, 3], 70_008, 16, 70_008);
        assert_eq!(narrow, expect(16, &[0, 5, 65_535, 3], 65_535));
        let (fits, _) = released(&[0, 5, 65_534], 65_539, 16, 65_539);
        assert_eq!(fits, expect(16, &[0, 5, 65_534], 65_535));
        let (small, small_bytes) = released(&[1, 2], 3, 16, 3);
        assert_eq!(small, expect(16, &[1, 2], 3));
        // No total: summed by the agency (one candidate per row) or not counted (several).
        for (one_candidate, want) in [(true, Some(3)), (false, None)] {
            let bytes = release(&k.server, &per_ioc(&[1, 2]), &[], 16, 3, one_candidate).unwrap();
            match k.client.decrypt(&bytes).unwrap() {
                Decrypted::Released {
                    per_slot, total, ..
                } => assert_eq!((per_slot, total), (vec![1, 2], want)),
                other => panic!("{other:?}"),
            }
        }
        let e = release(&k.server, &per_ioc(&[1]), &total(1), 8, 1, true).unwrap_err();
        assert!(e.to_string().contains("count width"), "{e}");
        let e = release(&k.server, &per_ioc(&[1]), &total(1), 32, 1 << 33, true).unwrap_err();
        assert!(e.to_string().contains("exceed"), "{e}");
        let mut flipped = small_bytes.clone();
        let n = flipped.len();
        flipped[n - 40] ^= 0x10;
        assert!(k
            .client
            .decrypt(&flipped)
            .map_or(true, |d| d != expect(16, &[1, 2], 3)));
        assert!(k.client.decrypt(&small_bytes[..n / 2]).is_err());
        // Direct decryption of the packed GLWEs equals tfhe's decompression + decryption.
        let (_, packed) = crate::released::open(&bytes).unwrap();
        let unpacked: Vec<u64> = packed
            .unpack(&k.client.decompression_key())
            .unwrap()
            .iter()
            .map(|blocks| {
                blocks.iter().rev().fold(0, |acc, b| {
                    acc * 4 + k.client.integer().decrypt_one_block(b)
                })
            })
            .collect();
        assert_eq!(unpacked, [0, 5, 70_000, 3, 70_008]);
    }
}
