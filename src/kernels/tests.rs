//! Kernel tests on real keys (the crate's shared test key pair). Every encrypted result is
//! checked against the same computation in the clear.

use tfhe::integer::IntegerCiphertext;

use super::counter::{refresh_lut, OneHotCounter};
use super::selectors::{DigitBits, Selectors};
use super::{dedup, encrypted, matching};
use crate::ciphertexts;
use crate::digest::Digest;
use crate::keys::Decrypted;
use crate::set::EncryptedSet;
use crate::test_keys::{digest, keys, sha_set};

/// `base` with its lowest 2-bit digit changed: shares every other digit.
fn near_miss(base: Digest) -> Digest {
    let mut d = base;
    d.0[31] ^= 0b01;
    d
}

/// Selector tables built on demand from `set`'s slots, and an anchor block.
fn slot_tables(
    set: &EncryptedSet,
    compare_bits: usize,
) -> (
    super::set_matching::BuildSelectors<
        'static,
        impl Fn(usize) -> tfhe::integer::RadixCiphertext + Sync + '_,
    >,
    tfhe::shortint::Ciphertext,
) {
    let radix = |s: usize| ciphertexts::value_radix(&set.slots[s]).unwrap().1;
    let anchor = radix(0).blocks()[0].clone();
    let tables = super::set_matching::BuildSelectors {
        sks: keys().server.shortint(),
        slot_value: radix,
        bits: None,
        compare_bits,
    };
    (tables, anchor)
}

fn decrypt_count(count: &tfhe::integer::RadixCiphertext) -> u64 {
    let k = keys();
    let bytes = ciphertexts::seal_count(k.client.id(), count).unwrap();
    match k.client.decrypt(&bytes).unwrap() {
        Decrypted::Count(n) => n,
        other => panic!("not a count: {other:?}"),
    }
}

fn ioc_selectors(ioc: Digest, bits: DigitBits) -> Selectors {
    let k = keys();
    let bytes = k.client.encrypt_value(&ioc).unwrap();
    let (_, radix) = ciphertexts::value_radix(&bytes).unwrap();
    Selectors::new(k.server.shortint(), &radix, bits, 256)
}

#[test]
fn fused_count_equals_plaintext_for_both_digit_widths() {
    let ioc = digest(1);
    let column = [
        Some(ioc),
        Some(digest(2)),
        None,
        Some(ioc),
        Some(near_miss(ioc)),
        Some(ioc),
        Some(digest(2)),
    ];
    let truth = column.iter().filter(|d| **d == Some(ioc)).count() as u64;
    let distinct = dedup::distinct_with_counts(column);
    for bits in [DigitBits::Two, DigitBits::Four] {
        let sel = ioc_selectors(ioc, bits);
        let count = matching::count_clear(keys().server.shortint(), &sel, &distinct, 256);
        assert_eq!(decrypt_count(&count), truth, "{bits:?}");
    }
}

#[test]
fn zero_matches_and_empty_input_count_zero() {
    let sel = ioc_selectors(digest(3), DigitBits::Two);
    let sks = keys().server.shortint();
    let distinct = dedup::distinct_with_counts([Some(digest(4)), Some(near_miss(digest(3)))]);
    assert_eq!(
        decrypt_count(&matching::count_clear(sks, &sel, &distinct, 256)),
        0
    );
    assert_eq!(
        decrypt_count(&matching::count_clear(sks, &sel, &[], 256)),
        0
    );
    assert_eq!(decrypt_count(&matching::zero_count(sks, sel.anchor())), 0);
}

#[test]
fn large_multiplicities_use_every_count_bit() {
    let ioc = digest(5);
    let sel = ioc_selectors(ioc, DigitBits::Two);
    let sks = keys().server.shortint();
    let big = (1u64 << 31) + 0x5555_5555 - (1 << 30);
    let distinct = [(digest(6), 7), (ioc, big), (digest(7), 1 << 20)];
    assert_eq!(
        decrypt_count(&matching::count_clear(sks, &sel, &distinct, 256)),
        big
    );
}

#[test]
fn counter_batches_keep_noise_in_budget() {
    // Many additions into the same bits over several batches, the match in the last one.
    let ioc = digest(8);
    let sel = ioc_selectors(ioc, DigitBits::Two);
    let sks = keys().server.shortint();
    let refresh = refresh_lut(sks);
    let misses: Vec<Digest> = (10..22u8).map(digest).collect();
    let bools = matching::match_clear(sks, &sel, &misses, 256);
    let hit = matching::match_clear(sks, &sel, &[ioc], 256);
    let mut counter = OneHotCounter::new();
    counter.add_all(sks, &refresh, &bools[..7], &[3; 7]);
    counter.add_all(sks, &refresh, &bools[7..], &[3; 5]);
    counter.add_all(sks, &refresh, &hit, &[3]);
    assert_eq!(
        decrypt_count(&counter.finish(sks, &refresh, sel.anchor())),
        3
    );
}

#[test]
fn per_value_matches_and_truncated_comparison() {
    let ioc = digest(9);
    let sel = ioc_selectors(ioc, DigitBits::Four);
    let sks = keys().server.shortint();
    // Same lowest 64 bits, different above: equal at bits=64, different at 256.
    let mut high_differs = ioc;
    high_differs.0[0] ^= 0xff;
    let values = [ioc, near_miss(ioc), high_differs, digest(10)];
    let decrypt = |bits| -> Vec<bool> {
        matching::match_clear(sks, &sel, &values, bits)
            .iter()
            .map(|m| keys().client.integer().decrypt_one_block(m) == 1)
            .collect()
    };
    assert_eq!(decrypt(256), [true, false, false, false]);
    assert_eq!(decrypt(64), [true, false, true, false]);
}

#[test]
fn encrypted_cells_against_encrypted_value() {
    let k = keys();
    let ioc = digest(11);
    let pk = k.client.public_key();
    let cells: Vec<_> = [ioc, digest(12), ioc]
        .iter()
        .map(|d| k.server.expand_cell(&pk.encrypt_cell(d).unwrap()).unwrap())
        .collect();
    let (_, value) = ciphertexts::value_radix(&k.client.encrypt_value(&ioc).unwrap()).unwrap();
    let matches = encrypted::match_encrypted(k.server.integer(), &value, &cells);
    let clear: Vec<u64> = matches
        .iter()
        .map(|m| k.client.integer().decrypt_one_block(m))
        .collect();
    assert_eq!(clear, [1, 0, 1]);
    let count = encrypted::count_booleans(k.server.integer(), &matches, &value.blocks()[0]);
    assert_eq!(decrypt_count(&count), 2);
    assert_eq!(
        decrypt_count(&encrypted::count_booleans(
            k.server.integer(),
            &[],
            &value.blocks()[0]
        )),
        0
    );
}

#[test]
fn set_counts_per_slot_and_total_equal_plaintext() {
    use super::counter::sum_counts;
    use super::set_matching::count_per_slot;
    let k = keys();
    // Duplicated IOC, an IOC that never occurs, and a near miss sharing all digits but one.
    let iocs = [digest(20), digest(21), digest(20), digest(22)];
    let (set, manifest) = sha_set(&iocs, 2).unwrap();
    assert_eq!(
        manifest.slots.iter().flatten().count(),
        3,
        "duplicates share a slot"
    );
    let column: Vec<Option<Digest>> = [20u8, 20, 21, 23, 20, 21, 24]
        .iter()
        .map(|s| Some(digest(*s)))
        .chain([None, Some(near_miss(digest(22)))])
        .collect();
    let distinct = dedup::distinct_with_counts(column.clone());
    let (tables, anchor) = slot_tables(&set, 256);
    let sks = k.server.shortint();
    let counts = count_per_slot(sks, &tables, &anchor, &set.cuckoo, &distinct, 256, 1);
    let bytes = ciphertexts::seal_counts(k.client.id(), set.id, &counts).unwrap();
    let Decrypted::Counts {
        set: set_id,
        per_slot,
    } = k.client.decrypt(&bytes).unwrap()
    else {
        panic!()
    };
    assert_eq!(set_id, set.id);
    for (slot, ioc) in manifest.slots.iter().enumerate() {
        let truth = ioc.as_ref().map_or(0, |(d, _)| {
            column.iter().filter(|v| **v == Some(*d)).count() as u64
        });
        assert_eq!(
            per_slot[slot], truth,
            "slot {slot} ({ioc:?}); dummies must count 0"
        );
    }
    let total = sum_counts(k.server.integer(), &counts, Some(&anchor));
    assert_eq!(decrypt_count(&total), 5);
}

#[test]
fn rows_with_several_candidates_count_once_per_ioc_and_once_in_total() {
    use super::row_matching::{any_per_value, count_rows, encrypted_false, Expanded};
    use super::set_matching::count_per_slot;
    let k = keys();
    let iocs = [digest(40), digest(41), digest(42)];
    let (set, manifest) = sha_set(&iocs, 2).unwrap();
    // Distinct row values as candidate lists (with multiplicities): a value holding two IOCs,
    // a value holding one IOC twice, a value with no match, a value with no candidates.
    let values = vec![
        (vec![digest(40), digest(41), digest(43)], 3u64),
        (vec![digest(41), digest(41), digest(44)], 2),
        (vec![digest(45), near_miss(digest(42))], 4),
        (vec![], 5),
        (vec![digest(42)], 1),
    ];
    let expanded = Expanded::new(values.clone());
    // 64-bit comparisons: a quarter of the selector bootstraps (the near miss still differs).
    let (tables, anchor) = slot_tables(&set, 64);
    let sks = k.server.shortint();
    // Per IOC: rows containing it at least once.
    let counts = count_per_slot(
        sks,
        &tables,
        &anchor,
        &set.cuckoo,
        &expanded.candidate_rows(),
        64,
        1,
    );
    let bytes = ciphertexts::seal_counts(k.client.id(), set.id, &counts).unwrap();
    let Decrypted::Counts { per_slot, .. } = k.client.decrypt(&bytes).unwrap() else {
        panic!()
    };
    for (slot, ioc) in manifest.slots.iter().enumerate() {
        let truth: u64 = ioc.as_ref().map_or(0, |(d, _)| {
            values
                .iter()
                .filter(|(c, _)| c.contains(d))
                .map(|(_, m)| m)
                .sum()
        });
        assert_eq!(per_slot[slot], truth, "slot {slot}");
    }
    // Rows with at least one match: 3 + 2 + 1, not the per-IOC sum 3 + 5 + 1.
    let total = count_rows(
        k.server.integer(),
        &tables,
        &anchor,
        &set.cuckoo,
        &expanded,
        64,
    );
    assert_eq!(decrypt_count(&total), 6);
    // Materialised per value.
    let any = any_per_value(sks, &tables, &set.cuckoo, &expanded, 64);
    let never = encrypted_false(sks, &anchor);
    let got: Vec<bool> = any
        .iter()
        .map(|m| {
            let bytes =
                ciphertexts::seal_match(k.client.id(), m.as_ref().unwrap_or(&never)).unwrap();
            k.client.decrypt(&bytes).unwrap() == Decrypted::Match(true)
        })
        .collect();
    assert_eq!(got, [true, true, false, false, true]);
    assert!(any[3].is_none());
}

#[test]
fn weighted_sum_of_many_true_booleans() {
    use super::counter::weighted_sum;
    let k = keys();
    let sks = k.server.shortint();
    let anchor = ioc_selectors(digest(50), DigitBits::Two).anchor().clone();
    let boolean = |b: bool| {
        let mut ct =
            sks.apply_lookup_table(&anchor, &sks.generate_lookup_table(move |_| u64::from(b)));
        ct.degree = tfhe::shortint::ciphertext::Degree::new(1);
        ct
    };
    let items = vec![
        (boolean(true), 7u64),
        (boolean(true), 1 << 20),
        (boolean(false), 9),
        (boolean(true), 2),
    ];
    let sum = weighted_sum(k.server.integer(), &items, &anchor);
    assert_eq!(decrypt_count(&sum), 7 + (1 << 20) + 2);
    assert_eq!(
        decrypt_count(&weighted_sum(k.server.integer(), &[], &anchor)),
        0
    );
}
