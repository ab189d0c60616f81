//! Kernel tests on real keys (generated once for the whole test binary). Every encrypted
//! result is checked against the same computation in the clear.

use std::sync::OnceLock;

use tfhe::integer::IntegerCiphertext;

use super::counter::{refresh_lut, OneHotCounter};
use super::selectors::{DigitBits, Selectors};
use super::{dedup, encrypted, matching};
use crate::ciphertexts;
use crate::digest::Digest;
use crate::ioc::{CanonicalIoc, IocType, SetSpec};
use crate::keys::{ClientKey, Decrypted, ServerKey};
use crate::set::{EncryptedSet, Manifest};

struct Keys {
    client: ClientKey,
    server: ServerKey,
}

fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let client = ClientKey::generate();
        let server = client.server_key().unwrap();
        Keys { client, server }
    })
}

fn digest(seed: u8) -> Digest {
    use sha2::{Digest as _, Sha256};
    Digest(Sha256::digest([seed]).into())
}

/// `base` with its lowest 2-bit digit changed: shares every other digit.
fn near_miss(base: Digest) -> Digest {
    let mut d = base;
    d.0[31] ^= 0b01;
    d
}

/// A SHA-256 set of `iocs` (their digests).
fn sha_set(iocs: &[Digest], hashes: u8) -> crate::Result<(EncryptedSet, Manifest)> {
    let canonical: Vec<CanonicalIoc> = iocs.iter().map(|d| CanonicalIoc::sha256(*d)).collect();
    keys()
        .client
        .encrypt_set(SetSpec::new(IocType::Sha256, true), &canonical, hashes, 0)
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
        .map(|d| ciphertexts::cell_radix(&pk.encrypt_cell(d).unwrap(), &k.server).unwrap())
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
fn values_round_trip_and_wrong_key_is_refused() {
    let k = keys();
    let d = digest(13);
    let bytes = k.client.encrypt_value(&d).unwrap();
    assert_eq!(k.client.decrypt(&bytes).unwrap(), Decrypted::Value(d));
    let other = ClientKey::generate();
    let err = other.decrypt(&bytes).unwrap_err().to_string();
    assert!(err.contains("was made under key"), "{err}");
}

#[test]
fn keys_round_trip_and_corruption_is_refused() {
    let k = keys();
    let ck = ClientKey::from_bytes(&k.client.to_bytes().unwrap()).unwrap();
    assert_eq!(ck.id(), k.client.id());
    let sk_bytes = k.server.to_bytes();
    let sk = ServerKey::from_bytes(sk_bytes).unwrap();
    assert_eq!(sk.id(), k.server.id());
    let truncated = &sk_bytes[..sk_bytes.len() / 2];
    assert!(ServerKey::from_bytes(truncated).is_err());
    let value = k.client.encrypt_value(&digest(14)).unwrap();
    let mut flipped = value.clone();
    let n = flipped.len();
    flipped[n / 2] ^= 0x40;
    assert!(
        ciphertexts::value_radix(&flipped).is_err()
            || k.client.decrypt(&flipped).unwrap() != Decrypted::Value(digest(14))
    );
    assert!(
        ciphertexts::open_count(&value).is_err(),
        "a value is not a count"
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
    let total = sum_counts(k.server.integer(), &counts, &anchor);
    assert_eq!(decrypt_count(&total), 5);
}

#[test]
fn set_wire_format_round_trips_and_rejects_tampering() {
    let k = keys();
    let (set, manifest) = sha_set(&[digest(30)], 3).unwrap();
    let bytes = set.to_bytes();
    let back = EncryptedSet::from_bytes(&bytes).unwrap();
    assert_eq!(
        (back.id, back.cuckoo, back.slots.len(), &back.spec),
        (set.id, set.cuckoo, set.slots.len(), &set.spec)
    );
    assert!(EncryptedSet::from_bytes(&bytes[..bytes.len() - 1]).is_err());
    let mut extra = bytes.clone();
    extra.push(0);
    assert!(EncryptedSet::from_bytes(&extra).is_err());
    assert_eq!(Manifest::from_text(&manifest.to_text()).unwrap(), manifest);
    assert!(sha_set(&[], 2).is_err());
    // A typed set keeps its type, case rule and declared lengths; IOC text with tabs and
    // newlines survives the manifest.
    let spec = SetSpec::new(IocType::Substring, false);
    let iocs = vec![spec.canonical_ioc("a\tb\nc").unwrap()];
    let spec = spec.with_lengths(&iocs, &[9]).unwrap();
    let (typed, manifest) = k.client.encrypt_set(spec.clone(), &iocs, 2, 5).unwrap();
    assert!(typed.slots.len() >= 11, "padded to 5 IOCs");
    let typed_bytes = typed.to_bytes();
    assert_eq!(EncryptedSet::from_bytes(&typed_bytes).unwrap().spec, spec);
    assert_eq!(Manifest::from_text(&manifest.to_text()).unwrap(), manifest);
    // An unknown type or an invalid declared length is refused on load (body: id 8, seed 16,
    // hashes 1, slots 4, then type, case rule, length count, lengths).
    let body = typed_bytes.iter().position(|b| *b == b'\n').unwrap() + 1;
    let mut bad = typed_bytes.clone();
    bad[body + 29] = 99;
    assert!(EncryptedSet::from_bytes(&bad).is_err());
    let mut bad = typed_bytes.clone();
    bad[body + 33..body + 35].copy_from_slice(&0u16.to_le_bytes());
    assert!(EncryptedSet::from_bytes(&bad).is_err());
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

/// Partial counts (scan partitions, checkpoints) add up slot by slot and in total.
#[test]
fn sealed_counts_add_and_total() {
    let k = keys();
    let id = k.client.id();
    let count = |n: u64| {
        let ct = k
            .client
            .integer()
            .encrypt_radix(n, ciphertexts::COUNT_BLOCKS);
        ciphertexts::seal_count(id, &ct).unwrap()
    };
    let sum = crate::combine::add(&k.server, &[count(3), count(40), count(0)]).unwrap();
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
                    .encrypt_radix(n, ciphertexts::COUNT_BLOCKS)
            })
            .collect();
        ciphertexts::seal_counts(id, set, &cts).unwrap()
    };
    let per_slot = crate::combine::add(
        &k.server,
        &[counts(&[1, 2], [7; 8]), counts(&[10, 0], [7; 8])],
    );
    match k.client.decrypt(&per_slot.unwrap()).unwrap() {
        Decrypted::Counts { set, per_slot } => assert_eq!((set, per_slot), ([7; 8], vec![11, 2])),
        other => panic!("{other:?}"),
    }
    let total = crate::combine::total(&k.server, &counts(&[5, 6, 7], [7; 8])).unwrap();
    assert!(matches!(
        k.client.decrypt(&total).unwrap(),
        Decrypted::Count(18)
    ));
    let mixed = crate::combine::add(&k.server, &[counts(&[1], [7; 8]), counts(&[1], [8; 8])]);
    assert!(mixed.unwrap_err().to_string().contains("different sets"));
    assert!(crate::combine::add(&k.server, &[counts(&[1], [7; 8]), count(1)]).is_err());
    assert!(crate::combine::add(&k.server, &[]).is_err());
}
