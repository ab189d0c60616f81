//! Server-side arithmetic on sealed counts: adding partial results (scan partitions,
//! checkpoints) and totalling per-IOC counts. Everything read is checked (kind, key, set,
//! parameters) before any FHE work.

use tfhe::integer::{IntegerCiphertext, RadixCiphertext};

use crate::ciphertexts::{self, check_key};
use crate::envelope::{self, KeyId, Kind};
use crate::error::{Error, Result};
use crate::kernels::counter::sum_counts;
use crate::keys::ServerKey;
use crate::set::SetId;

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
    Ok((
        set,
        counts.into_iter().map(|c| c.into_raw_parts().0).collect(),
    ))
}

fn anchor(c: &RadixCiphertext) -> tfhe::shortint::Ciphertext {
    c.blocks()[0].clone()
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
    let (header, _) = envelope::peek(&items[0])?;
    let sks = key.integer();
    match header.kind {
        Kind::Count => {
            let radixes = items
                .iter()
                .map(|b| count_radix(b, key))
                .collect::<Result<Vec<_>>>()?;
            let sum = sum_counts(sks, &radixes, &anchor(&radixes[0]));
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
            let Some(a) = first.first().map(anchor) else {
                return ciphertexts::seal_counts(key.id(), *set, &[]);
            };
            let sums: Vec<RadixCiphertext> = (0..first.len())
                .map(|slot| {
                    let column: Vec<RadixCiphertext> =
                        lists.iter().map(|(_, c)| c[slot].clone()).collect();
                    sum_counts(sks, &column, &a)
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

/// Encrypted sum of all slots of sealed per-IOC counts (rows matching some IOC, when every row
/// has at most one candidate). Returns a sealed count.
pub fn total(key: &ServerKey, counts: &[u8]) -> Result<Vec<u8>> {
    let (_, slots) = counts_radix(counts, key)?;
    let Some(a) = slots.first().map(anchor) else {
        return Err(Error::InvalidInput(
            "per-IOC counts of an empty set have no total".into(),
        ));
    };
    ciphertexts::seal_count(key.id(), &sum_counts(key.integer(), &slots, &a))
}

/// The key a sealed object was made under, without reading its payload.
pub fn key_of(bytes: &[u8]) -> Result<KeyId> {
    Ok(envelope::peek(bytes)?.0.key)
}
