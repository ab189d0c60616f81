//! Server-side arithmetic on sealed counts: adding partial results (scan partitions,
//! checkpoints) and totalling per-IOC counts. Everything read is checked (kind, key, set,
//! parameters) before any FHE work.

use tfhe::integer::{IntegerCiphertext, RadixCiphertext};

use crate::ciphertexts;
use crate::error::{Error, Result};
use crate::kernels::counter::sum_counts;
use crate::keys::ServerKey;
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
    }
}
