//! Lookup kernel tests against plaintext truth, and the noise of extracted records.

use tfhe::core_crypto::prelude::*;
use tfhe::integer::RadixCiphertext;

use crate::digest::Digest;
use crate::lookup::eval::{count, lookup_block, Fourier};
use crate::lookup::hashing::position;
use crate::lookup::query::{delta, LookupQuery};
use crate::lookup::{cost, ggsw, table, MAX_MAX_BITS};
use crate::test_keys::{digest, keys};

fn decrypt(c: &RadixCiphertext) -> u64 {
    keys().client.integer().decrypt_radix::<u64>(c)
}

/// GGSWs of position `pos` in a sub-table of 2^bits positions: the monomial, then the high bits.
fn position_ggsws(key: &GlweSecretKeyOwned<u64>, pos: u64, bits: u32) -> Vec<Fourier> {
    let mut ggsws = vec![ggsw::to_fourier(&ggsw::encrypt_monomial(
        key,
        (pos % 2048) as usize,
    ))];
    for b in 11..bits {
        ggsws.push(ggsw::to_fourier(&ggsw::encrypt_bit(key, (pos >> b) & 1)));
    }
    ggsws
}

#[test]
fn monomial_ggsw_rotates_and_tree_selects() {
    let key = keys().client.glwe_secret_key();
    let bits = 13u32;
    // A table whose value at position p is p mod 16.
    let lut: Vec<u64> = (0..1u64 << bits).map(|p| (p % 16) * delta()).collect();
    for pos in [0u64, 1, 2047, 2048, 5000, (1 << bits) - 1] {
        let lwe = lookup_block(&lut, &position_ggsws(&key, pos, bits));
        let lwe_key = key.clone().into_lwe_secret_key();
        let phase = decrypt_lwe_ciphertext(&lwe_key, &lwe).0;
        let value = (phase.wrapping_add(delta() / 2) / delta()) % 32;
        assert_eq!(value, pos % 16, "position {pos}");
    }
}

#[test]
fn table_places_every_value_once_and_grows() {
    let seed = [7u8; 16];
    let digests: Vec<Digest> = many(5000, 0);
    // 5,000 values fit 3 × 2^11 = 6,144 positions at most 85% full: b = 11 (81% full).
    let t = table::place(&seed, 20, &digests).unwrap();
    assert_eq!(t.bits, 11);
    let mut seen = vec![0u32; digests.len()];
    for (ti, slots) in t.slots.iter().enumerate() {
        for (p, &o) in slots.iter().enumerate() {
            if o != 0 {
                seen[o as usize - 1] += 1;
                assert_eq!(
                    position(&seed, ti, &digests[o as usize - 1], t.bits) as usize,
                    p
                );
            }
        }
    }
    assert!(seen.iter().all(|&n| n == 1));
    // Near capacity (5,220 values in 6,144 positions) it places or grows; more values than a
    // query's largest table can hold is a clear error.
    let near: Vec<Digest> = many(5220, 9000);
    let grown = table::place(&seed, 20, &near).unwrap();
    assert!(grown.bits == 11 || grown.growths > 0);
    let overfull: Vec<Digest> = many(6000, 20000);
    // Forced regrowth: 6,000 values cannot be placed in 6,144 positions (97.7% full); the
    // table grows to b = 12 and says so.
    let regrown = table::place_from(&seed, 11, 20, &overfull).unwrap();
    assert_eq!((regrown.bits, regrown.growths), (12, 1));
    let e = table::place(&seed, 11, &overfull).unwrap_err();
    assert!(e.to_string().contains("lookup size"), "{e}");
}

/// `n` distinct test digests, the SHA-256 of `offset..offset + n`.
fn many(n: u32, offset: u32) -> Vec<Digest> {
    use sha2::Digest as _;
    (offset..offset + n)
        .map(|i| Digest(sha2::Sha256::digest(i.to_le_bytes()).into()))
        .collect()
}

#[test]
fn lookup_counts_equal_plaintext_counts() {
    let k = keys();
    let key = k.client.glwe_secret_key();
    // Server values: digests 0..40 with multiplicities; one value shares its low 64 digest bits
    // with value 1 (a truncated-digest tag would confuse them; tags are table-hash bits).
    let mut values: Vec<Digest> = (0..40u8).map(digest).collect();
    let mut twin = values[1];
    twin.0[0] ^= 0xff;
    values.push(twin);
    let weights: Vec<u64> = (0..values.len() as u64).map(|i| 1 + i * 37).collect();
    // Entries: present values, an absent IOC, a duplicate.
    let iocs = [values[1], values[7], digest(200), values[39], values[7]];
    let query = LookupQuery::encrypt(&key, &iocs, 12, true).unwrap();
    let sealed = query.seal(k.client.id()).unwrap();
    let (_, query) = LookupQuery::open(&sealed).unwrap();
    for bits in [64, 256] {
        let counts = count(
            k.server.shortint(),
            &query,
            &values,
            std::slice::from_ref(&weights),
            bits,
        )
        .unwrap();
        let got: Vec<u64> = counts[0].iter().map(decrypt).collect();
        assert_eq!(
            got,
            vec![weights[1], weights[7], 0, weights[39], weights[7]],
            "bits {bits}"
        );
    }
    // Two groups; an empty server column costs nothing and counts zero.
    let g2: Vec<u64> = weights.iter().map(|w| w % 3).collect();
    let counts = count(
        k.server.shortint(),
        &query,
        &values,
        &[weights.clone(), g2.clone()],
        64,
    )
    .unwrap();
    assert_eq!(decrypt(&counts[1][1]), g2[7]);
    let empty = count(k.server.shortint(), &query, &[], &[vec![]], 64).unwrap();
    assert_eq!(decrypt(&empty[0][0]), 0);
}

#[test]
fn tampered_lookup_queries_are_refused() {
    let k = keys();
    let key = k.client.glwe_secret_key();
    let query = LookupQuery::encrypt(&key, &[digest(1)], 11, false).unwrap();
    let sealed = query.seal(k.client.id()).unwrap();
    assert!(LookupQuery::open(&sealed[..sealed.len() - 9]).is_err());
    let mut flipped = sealed.clone();
    let at = sealed.len() / 2;
    flipped[at] ^= 0x55;
    // A flipped byte is either refused or an ordinary (wrong) ciphertext of the right shape.
    if let Ok((_, q)) = LookupQuery::open(&flipped) {
        assert_eq!(q.entries(), 1);
    }
    assert!(LookupQuery::encrypt(&key, &[digest(1)], 10, false).is_err());
    assert!(LookupQuery::encrypt(&key, &[digest(1)], MAX_MAX_BITS + 1, false).is_err());
}

/// Noise of extracted records at the largest sub-table a query may declare, against a fresh
/// PBS output's (what the pinned parameters' p-fail assumes of a bootstrap input, up to the
/// noise level 5): lookups must come out no noisier.
#[test]
fn extracted_records_are_cleaner_than_pbs_outputs() {
    let k = keys();
    let key = k.client.glwe_secret_key();
    let lwe_key = key.clone().into_lwe_secret_key();
    let bits = MAX_MAX_BITS;
    let lut: Vec<u64> = (0..1u64 << bits).map(|p| (p % 16) * delta()).collect();
    let err = |phase: u64, value: u64| (phase.wrapping_sub(value * delta()) as i64) as f64;
    let mut lookup_sq = 0.0;
    let samples = 6;
    for s in 0..samples as u64 {
        let pos = (s * 2_796_203 + 12_345) % (1 << bits);
        let lwe = lookup_block(&lut, &position_ggsws(&key, pos, bits));
        let e = err(decrypt_lwe_ciphertext(&lwe_key, &lwe).0, pos % 16);
        lookup_sq += e * e;
    }
    let sks = k.server.shortint();
    let ck = k.client.integer();
    let lut_id = sks.generate_lookup_table(|x| x % 16);
    let mut pbs_sq = 0.0;
    for s in 0..samples as u64 {
        let ct = ck.encrypt_one_block(s % 4);
        let out = sks.apply_lookup_table(&ct, &lut_id);
        let e = err(decrypt_lwe_ciphertext(&lwe_key, &out.ct).0, s % 4);
        pbs_sq += e * e;
    }
    let lookup_log2 = (lookup_sq / samples as f64).sqrt().log2();
    let pbs_log2 = (pbs_sq / samples as f64).sqrt().log2();
    eprintln!("noise (log2 std): lookup at b = {bits}: {lookup_log2:.1}; PBS output: {pbs_log2:.1}; decoding threshold: {:.1}", ((delta() / 2) as f64).log2());
    assert!(
        lookup_log2 < pbs_log2,
        "lookup noise 2^{lookup_log2:.1} vs PBS output 2^{pbs_log2:.1}"
    );
}

#[test]
fn predicted_cost_matches_the_measured_pbs() {
    // 64 bits at b = 11 (2 nibbles implied by the position): 14 nibbles, AND 4 PBS; one group,
    // multiplicities below 4: per entry 3 × (14 + 4) + 1 × 4 = 58 PBS.
    let c = cost::predict(10, 1000, 1, 3, 64);
    assert_eq!(c.pbs, 10 * 58);
    assert_eq!(c.table_bits, 11);
    assert_eq!(c.external_products, 10 * 3 * 15);
    assert_eq!(cost::predict(10, 0, 1, 0, 64).pbs, 0);
}
