//! Lookup kernel tests against plaintext truth, the exhaustive bootstrap tables, and the noise
//! of a four-cell read under the deepest window tree a query may carry.

use tfhe::core_crypto::prelude::*;

use crate::ciphertexts;
use crate::combine;
use crate::digest::Digest;
use crate::keys::Decrypted;
use crate::lookup::eval::{count_bins, read, Fourier};
use crate::lookup::gates::{as_block, Luts, Plan};
use crate::lookup::hashing::Location;
use crate::lookup::packed::PackedGgsw;
use crate::lookup::query::LookupOptions;
use crate::lookup::query::{LookupQuery, COUNT_DELTA, TAG_DELTA};
use crate::lookup::{cost, filter, ggsw, MAX_MAX_BITS, MAX_WINDOW_BITS, WINDOW};
use crate::test_keys::keys;

/// `n` distinct test digests, the SHA-256 of `offset..offset + n`.
pub fn many(n: u32, offset: u32) -> Vec<Digest> {
    use sha2::Digest as _;
    (offset..offset + n)
        .map(|i| Digest(sha2::Sha256::digest(i.to_le_bytes()).into()))
        .collect()
}

fn options(max_bits: u32, count_bits: usize) -> LookupOptions {
    LookupOptions {
        max_bits,
        forced: true,
        count_bits,
    }
}

/// A fresh LWE of the plaintext `phase` under the key of PBS outputs.
fn encrypt_phase(phase: u64) -> LweCiphertextOwned<u64> {
    let key = keys().client.glwe_secret_key().into_lwe_secret_key();
    let p = crate::params::COMPUTE;
    let mut seeder = new_seeder();
    let mut enc =
        EncryptionRandomGenerator::<DefaultRandomGenerator>::new(seeder.seed(), seeder.as_mut());
    let mut lwe = LweCiphertext::new(
        0u64,
        key.lwe_dimension().to_lwe_size(),
        p.ciphertext_modulus,
    );
    encrypt_lwe_ciphertext(
        &key,
        &mut lwe,
        Plaintext(phase),
        p.glwe_noise_distribution,
        &mut enc,
    );
    lwe
}

/// Raw phase of an LWE under the key of PBS outputs, decoded at `delta` modulo `modulus`.
fn decode(lwe: &LweCiphertextOwned<u64>, delta: u64, modulus: u64) -> u64 {
    let key = keys().client.glwe_secret_key().into_lwe_secret_key();
    let phase = decrypt_lwe_ciphertext(&key, lwe).0;
    (phase.wrapping_add(delta / 2) / delta) % modulus
}

/// The 5-bit tag test over all 32 × 32 (value, tag) pairs: `[x == 0]` on the padding-free
/// difference gives 1 on a match, −1 (31) at a difference of 16, 0 otherwise.
#[test]
fn five_bit_tag_test_is_exact_over_all_pairs() {
    let sks = keys().server.shortint();
    let luts = Luts::new(sks);
    let pairs: Vec<(u64, u64)> = (0..32).flat_map(|v| (0..32).map(move |t| (v, t))).collect();
    use rayon::prelude::*;
    let wrong: Vec<(u64, u64, u64)> = pairs
        .par_iter()
        .filter_map(|&(v, t)| {
            let lwe = encrypt_phase(((v + 32 - t) % 32) * TAG_DELTA);
            let out = sks.apply_lookup_table(&as_block(sks, lwe, 15), &luts.is_zero);
            let got = decode(&out.ct, TAG_DELTA, 32);
            let want = if v == t {
                1
            } else if (v + 32 - t) % 32 == 16 {
                31
            } else {
                0
            };
            (got != want).then_some((v, t, got))
        })
        .collect();
    assert!(wrong.is_empty(), "{wrong:?}");
}

/// The gate over every count cell (0..8) and match bit: `4c + 2b` → c for members (b = 1,
/// c < 4), 0 for every non-member (b = 0), including cells of 4..8 in the negacyclic half.
#[test]
fn gate_releases_members_and_zeroes_everything_else() {
    let k = keys();
    let sks = k.server.shortint();
    let luts = Luts::new(sks);
    for c in 0..8u64 {
        for b in 0..2u64 {
            if b == 1 && c >= 4 {
                continue; // members' chunks are < 4
            }
            let mut x = as_block(sks, encrypt_phase(c * COUNT_DELTA), 3);
            let bit = k.client.integer().encrypt_one_block(b);
            let bit = sks.apply_lookup_table(&bit, &sks.generate_lookup_table(|x| x));
            sks.unchecked_add_assign(&mut x, &sks.unchecked_scalar_mul(&bit, 2));
            let out = sks.apply_lookup_table(&x, &luts.gate);
            assert_eq!(
                k.client.integer().decrypt_one_block(&out),
                b * c,
                "c {c} b {b}"
            );
        }
    }
}

/// Filters peel, every value's cells add up to its record, and a window that cannot be solved
/// forces a larger `w` or, at the query's maximum, a clear error.
#[test]
fn filters_solve_grow_and_fail_clearly() {
    let seed = [5u8; 16];
    let digests = many(3000, 0);
    let locations: Vec<Location> = digests
        .iter()
        .map(|d| crate::lookup::hashing::location(&seed, d))
        .collect();
    let members: Vec<u32> = (0..3000).collect();
    let f = filter::solve_bin(&members, &locations, 4).unwrap();
    assert_eq!(f.window_bits, 2, "3,000 values need 4 windows at 70 % load");
    let record = |v: u32| u64::from(v) * 7 + 3;
    for modulus in [8, 32] {
        let cells = f.cells(&locations, modulus, record);
        assert!(filter::sums_hold(&f, &cells, &locations, modulus, record));
    }
    // Two values with the same cells in one window: no filter holds both; growing w separates
    // them (their window words differ), at w = 0 allowed only it is an error naming the fix.
    let mut twins = locations[..2].to_vec();
    twins[1].cells = twins[0].cells;
    twins[1].window = twins[0].window ^ 1;
    let grown = filter::solve_bin(&[0, 1], &twins, 3).unwrap();
    assert_eq!((grown.window_bits, grown.growths), (1, 1));
    let e = filter::solve_bin(&[0, 1], &twins, 0).unwrap_err();
    assert!(e.to_string().contains("--lookup-bits"), "{e}");
}

fn released_counts(
    query: &LookupQuery,
    values: &[Digest],
    weights: &[Vec<u64>],
    bits: usize,
) -> Vec<Vec<u64>> {
    let k = keys();
    let counts = count_bins(
        k.server.shortint(),
        k.server.rerandomization(),
        query,
        values,
        weights,
        bits,
        query.count_bits(),
        0..query.entries(),
        &|_| {},
    )
    .unwrap();
    let rows: u64 = weights.iter().flatten().sum();
    counts
        .iter()
        .map(|per_bin| {
            // Two partitions (bin ranges) merged, then released: gate blocks pass through.
            let half = query.entries() / 2;
            let part = |range: std::ops::Range<usize>| {
                let mut mine = per_bin.clone();
                for (b, c) in mine.iter_mut().enumerate() {
                    if !range.contains(&b) {
                        *c = tfhe::integer::RadixCiphertext::from(vec![
                            crate::kernels::counter::trivial_zero(k.server.shortint());
                            crate::params::COUNT_BLOCKS
                        ]);
                    }
                }
                ciphertexts::seal_gated(k.client.id(), [1; 8], &mine).unwrap()
            };
            let merged =
                combine::add(&k.server, &[part(0..half), part(half..query.entries())]).unwrap();
            let released =
                combine::release(&k.server, &merged, &[], query.count_bits(), rows, true).unwrap();
            match k.client.decrypt(&released).unwrap() {
                Decrypted::Released {
                    per_bin: true,
                    per_slot,
                    total,
                    ..
                } => {
                    assert_eq!(
                        total,
                        Some(
                            per_slot
                                .iter()
                                .sum::<u64>()
                                .min((1 << query.count_bits()) - 1)
                        )
                    );
                    per_slot
                }
                other => panic!("{other:?}"),
            }
        })
        .collect()
}

#[test]
fn lookup_counts_equal_plaintext_counts() {
    let k = keys();
    let key = k.client.glwe_secret_key();
    // Server values with multiplicities; IOCs: present values, absent ones, one above the
    // 16-bit width (saturates), and a value that shares the low 64 digest bits of another.
    let mut values = many(600, 0);
    let mut twin = values[1];
    twin.0[31] ^= 0xff;
    values.push(twin);
    let weights: Vec<u64> = (0..values.len() as u64).map(|i| 1 + i * 37).collect();
    let big = 599;
    let mut w16 = weights.clone();
    w16[big] = 70_000;
    let absent = many(3, 10_000);
    let iocs = [
        values[1],
        values[7],
        absent[0],
        values[big],
        absent[1],
        values[600],
    ];
    let (query, bin_of) = LookupQuery::encrypt(&key, &iocs, 0, options(12, 16)).unwrap();
    let sealed = query.seal(k.client.id()).unwrap();
    let (_, query) = LookupQuery::open(&sealed).unwrap();
    let g2: Vec<u64> = weights.iter().map(|w| w % 3).collect();
    for bits in [64, 256] {
        let per_group = released_counts(&query, &values, &[w16.clone(), g2.clone()], bits);
        let named =
            |g: usize| -> Vec<u64> { bin_of.iter().map(|&b| per_group[g][b as usize]).collect() };
        assert_eq!(
            named(0),
            vec![w16[1], w16[7], 0, 65_535, 0, w16[600]],
            "bits {bits}"
        );
        assert_eq!(
            named(1),
            vec![g2[1], g2[7], 0, g2[big], 0, g2[600]],
            "bits {bits}, group 2"
        );
        let dummies: u64 = (0..query.entries())
            .filter(|b| !bin_of.contains(&(*b as u32)))
            .map(|b| per_group[0][b])
            .sum();
        assert_eq!(dummies, 0, "dummy bins count nothing");
    }
    // An empty column: every count 0.
    assert!(released_counts(&query, &[], &[vec![]], 64)[0]
        .iter()
        .all(|&c| c == 0));
}

#[test]
fn tampered_lookup_queries_are_refused() {
    let k = keys();
    let key = k.client.glwe_secret_key();
    let many_iocs = many(1, 0);
    let (query, _) = LookupQuery::encrypt(&key, &many_iocs, 0, options(11, 32)).unwrap();
    let sealed = query.seal(k.client.id()).unwrap();
    assert!(LookupQuery::open(&sealed[..sealed.len() - 9]).is_err());
    let mut flipped = sealed.clone();
    let at = sealed.len() / 2;
    flipped[at] ^= 0x55;
    // A flipped byte is either refused or an ordinary (wrong) ciphertext of the right shape.
    if let Ok((_, q)) = LookupQuery::open(&flipped) {
        assert_eq!(q.entries(), query.entries());
    }
    assert!(LookupQuery::encrypt(&key, &many_iocs, 0, options(10, 32)).is_err());
    assert!(LookupQuery::encrypt(&key, &many_iocs, 0, options(MAX_MAX_BITS + 1, 32)).is_err());
    assert!(LookupQuery::encrypt(&key, &many_iocs, 0, options(12, 8)).is_err());
}

/// Noise of a read by a four-monomial cell GGSW under the deepest window tree a query may
/// carry, against a fresh PBS output's. The pinned p-fail holds for bootstrap inputs of variance
/// up to 25·σ_PBS² (noise level 5); the noisiest input is the gate's, a read + 2 × a PBS output
/// + re-randomisation: reads within 2·σ_PBS (variance 4·σ_PBS²) keep it below 10·σ_PBS².
#[test]
fn four_cell_reads_are_cleaner_than_pbs_outputs() {
    let k = keys();
    let key = k.client.glwe_secret_key();
    let lwe_key = key.clone().into_lwe_secret_key();
    let w = MAX_WINDOW_BITS as usize;
    let leaves: Vec<u64> = (0..WINDOW << w)
        .map(|i| ((i * 7 + i / WINDOW) % 32) as u64 * TAG_DELTA)
        .collect();
    let err =
        |phase: u64, value: u64| (phase.wrapping_sub(value.wrapping_mul(TAG_DELTA)) as i64) as f64;
    let mut read_sq = 0.0;
    let samples = 8usize;
    for s in 0..samples {
        let window_index = (s * 40_503 + 77) % (1 << w);
        let cells = [s * 3, 512 + s * 11, 1024 + s * 5, 1536 + s * 13];
        // As the company reads them: bodies rounded to 48 bits (PackedGgsw).
        let sent = |g| PackedGgsw::pack(&g).unpack();
        let window: Vec<Fourier> = (0..w)
            .map(|b| {
                ggsw::to_fourier(&sent(ggsw::encrypt_bit(
                    &key,
                    ((window_index >> b) & 1) as u64,
                )))
            })
            .collect();
        let q = ggsw::to_fourier(&sent(ggsw::encrypt_monomial_sum(&key, &cells)));
        let lwe = read(&leaves, &window, &q);
        let want: u64 = cells
            .iter()
            .map(|c| leaves[window_index * WINDOW + c] / TAG_DELTA)
            .sum::<u64>()
            % 32;
        let e = err(decrypt_lwe_ciphertext(&lwe_key, &lwe).0, want);
        read_sq += e * e;
    }
    let sks = k.server.shortint();
    let ck = k.client.integer();
    let lut_id = sks.generate_lookup_table(|x| x % 16);
    let mut pbs_sq = 0.0;
    for s in 0..4 * samples as u64 {
        let out = sks.apply_lookup_table(&ck.encrypt_one_block(s % 4), &lut_id);
        let e = err(decrypt_lwe_ciphertext(&lwe_key, &out.ct).0, s % 4);
        pbs_sq += e * e;
    }
    let read_log2 = (read_sq / samples as f64).sqrt().log2();
    let pbs_log2 = (pbs_sq / (4 * samples) as f64).sqrt().log2();
    eprintln!("noise (log2 std): 4-cell read under {w} CMux levels: {read_log2:.1}; PBS output: {pbs_log2:.1}; decoding threshold: 58");
    assert!(
        read_log2 < pbs_log2 + 1.0,
        "read noise 2^{read_log2:.1} vs PBS output 2^{pbs_log2:.1}"
    );
}

#[test]
fn predicted_cost_matches_the_measured_pbs() {
    // 64 bits: 13 tag chunks, 3 AND steps; 32-bit counts: 16 gates per group.
    let plan = Plan::new(64, 32, 1);
    assert_eq!(plan.pbs(), 13 + 3 + 16);
    assert_eq!(Plan::new(256, 32, 1).pbs(), 52 + 13 + 16);
    let c = cost::predict(10, 1000, 1, 64, 32);
    assert_eq!(c.pbs, 10 * 32);
    assert_eq!(
        c.window_bits, 0,
        "4 · 1,000 / 10 = 400 values per bin (+4σ): one window"
    );
    assert_eq!(c.external_products, 10 * 29);
    // 2^20 values in 1,127 bins (1,024 IOCs): about 3,700 values per bin, 4 windows.
    let big = cost::predict(1127, 1 << 20, 1, 64, 32);
    assert_eq!(big.window_bits, 2);
    assert_eq!(big.external_products, 1127 * 29 * 4);
}

/// Twenty groups share one filter per bin (tag chunks read and tested once); each group's
/// counts are its own weights.
#[test]
fn twenty_groups_count_their_own_rows() {
    let k = keys();
    let values = many(200, 50_000);
    let groups: Vec<Vec<u64>> = (0..20u64)
        .map(|g| {
            (0..200u64)
                .map(|v| (v * 7 + g * 13) % 50 * u64::from((v + g) % 3 != 0))
                .collect()
        })
        .collect();
    let iocs = [values[3], values[150], many(1, 90_000)[0]];
    let (query, bin_of) =
        LookupQuery::encrypt(&k.client.glwe_secret_key(), &iocs, 0, options(11, 16)).unwrap();
    let per_group = released_counts(&query, &values, &groups, 64);
    for (g, weights) in groups.iter().enumerate() {
        let got: Vec<u64> = bin_of.iter().map(|&b| per_group[g][b as usize]).collect();
        assert_eq!(got, vec![weights[3], weights[150], 0], "group {g}");
    }
}
