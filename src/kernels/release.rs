//! The last step before counts leave the company: re-randomise, refresh, narrow, saturate.
//!
//! 1. Every block is re-randomised: a fresh encryption of zero under the compact public key
//!    derived from the compute key (tfhe's `DerivedCPKWithoutKeySwitch`), seeded from the
//!    operating system's generator and a nonce nobody else sees. Two equal inputs (a zero
//!    count reused, a trivial block) become unrelated ciphertexts, and the agency cannot
//!    recompute a released ciphertext from guessed log values.
//! 2. Every kept block is bootstrapped once more (the refresh): its noise is then that of a
//!    fresh PBS output, whatever the server did before (how many values were summed, which ones
//!    nearly matched).
//! 3. Only the query's declared width is kept (`bits / 2` blocks). When a count could exceed
//!    `2^bits − 1` (more rows than that were scanned) it saturates: any non-zero dropped block
//!    turns every kept block to 3, so the count decrypts as `2^bits − 1`, "at least that many".
//!
//! Cost per count: `bits / 2` PBS, plus 3 PBS when saturation is needed.

use rand::RngCore;
use rayon::prelude::*;
use tfhe::integer::{IntegerCiphertext, RadixCiphertext};
use tfhe::shortint::ciphertext::ReRandomizationContext;
use tfhe::shortint::parameters::NoiseLevel;
use tfhe::shortint::{Ciphertext, CompactPublicKey, ServerKey};

use crate::kernels::pbs;
use crate::params::{COUNT_BLOCKS, MAX_NOISE_LEVEL};

/// Blocks re-randomised with one seed (one compact encryption of that many zeros).
const RERAND_CHUNK: usize = 1024;

/// Add a fresh encryption of zero to every block (blocks must be at most nominal noise; trivial
/// blocks become genuine encryptions of their value).
pub fn rerandomize(cpk: &CompactPublicKey, blocks: &mut [Ciphertext]) {
    let mut nonce = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let mut context = ReRandomizationContext::new(*b"iocz_Rrd", *b"TFHE_Enc");
    context.add_bytes(b"iocz release v1");
    context.add_bytes(&nonce);
    let mut seeds = context.finalize();
    let chunks: Vec<_> = blocks
        .chunks_mut(RERAND_CHUNK)
        .map(|c| (c, seeds.next_seed()))
        .collect();
    chunks.into_par_iter().for_each(|(chunk, seed)| {
        cpk.re_randomize_ciphertexts(chunk, None, seed)
            .expect("blocks are re-randomisable: big-key LWEs at nominal noise");
    });
}

/// Released form of `counts` (each `COUNT_BLOCKS` blocks, canonical: degree ≤ 3): re-randomised,
/// refreshed, `bits / 2` blocks each, saturating when `saturate`.
pub fn release(
    sks: &ServerKey,
    cpk: &CompactPublicKey,
    counts: &[RadixCiphertext],
    bits: usize,
    saturate: bool,
) -> Vec<RadixCiphertext> {
    let keep = bits / 2;
    assert!(
        bits.is_multiple_of(2) && (1..=COUNT_BLOCKS).contains(&keep),
        "bad count width {bits}"
    );
    assert!(
        !saturate || keep < COUNT_BLOCKS,
        "a full-width count cannot saturate"
    );
    let identity = sks.generate_lookup_table(|x| x % 4);
    let mut blocks: Vec<Ciphertext> = counts
        .iter()
        .flat_map(|c| {
            assert_eq!(c.blocks().len(), COUNT_BLOCKS, "not a count");
            let used = if saturate { COUNT_BLOCKS } else { keep };
            c.blocks()[..used].iter().cloned()
        })
        .collect();
    blocks
        .par_iter_mut()
        .filter(|b| b.noise_level() > NoiseLevel::NOMINAL)
        .for_each(|b| pbs::apply_assign(sks, b, &identity));
    rerandomize(cpk, &mut blocks);
    if !saturate {
        blocks
            .par_iter_mut()
            .for_each(|b| pbs::apply_assign(sks, b, &identity));
        return blocks
            .chunks(keep)
            .map(|c| RadixCiphertext::from(c.to_vec()))
            .collect();
    }
    let nonzero = sks.generate_lookup_table(|x| u64::from(x != 0));
    let clamp = sks.generate_lookup_table(|x| if x >= 4 { 3 } else { x });
    blocks
        .par_chunks(COUNT_BLOCKS)
        .map(|c| {
            let overflow = any_nonzero(sks, &nonzero, c[keep..].to_vec());
            let high = sks.unchecked_scalar_mul(&overflow, 4);
            let low: Vec<Ciphertext> = c[..keep]
                .par_iter()
                .map(|b| {
                    let mut t = high.clone();
                    sks.unchecked_add_assign(&mut t, b);
                    pbs::apply(sks, &t, &clamp)
                })
                .collect();
            RadixCiphertext::from(low)
        })
        .collect()
}

/// One fresh boolean: some block of `blocks` (each ≤ 3, nominal noise) is non-zero. Sums of
/// ≤ `MAX_NOISE_LEVEL` blocks (≤ 15) are tested with one PBS each, level by level.
fn any_nonzero(
    sks: &ServerKey,
    nonzero: &tfhe::shortint::server_key::LookupTableOwned,
    mut blocks: Vec<Ciphertext>,
) -> Ciphertext {
    loop {
        blocks = blocks
            .par_chunks(MAX_NOISE_LEVEL)
            .map(|group| {
                let mut sum = group[0].clone();
                for b in &group[1..] {
                    sks.unchecked_add_assign(&mut sum, b);
                }
                pbs::apply(sks, &sum, nonzero)
            })
            .collect();
        if blocks.len() == 1 {
            return blocks.pop().expect("one block");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_keys::keys;
    use tfhe::core_crypto::prelude::decrypt_lwe_ciphertext;
    use tfhe::shortint::client_key::atomic_pattern::AtomicPatternClientKey;

    /// Raw noise of every block, in units of 2^40: the phase under the big (GLWE-as-LWE) key
    /// minus the encoded message. What a key holder can read from a ciphertext besides its value.
    fn noise(blocks: &[Ciphertext]) -> Vec<f64> {
        let ck: &tfhe::shortint::ClientKey = keys().client.integer().as_ref();
        let AtomicPatternClientKey::KeySwitch32(ap) = &ck.atomic_pattern else {
            panic!("iocz pins the KS32 atomic pattern")
        };
        let key = ap.large_lwe_secret_key();
        let delta = 1u64 << 59; // 2^63 / (message × carry modulus): 1 padding bit, 4 bits.
        blocks
            .iter()
            .map(|b| {
                let phase = decrypt_lwe_ciphertext(&key, &b.ct).0;
                let message = ck.decrypt_message_and_carry(b);
                phase.wrapping_sub(message * delta) as i64 as f64 / (1u64 << 40) as f64
            })
            .collect()
    }

    /// Two-sample Kolmogorov–Smirnov test: true when the samples are compatible with one
    /// distribution at significance 10^-4.
    fn same_distribution(mut a: Vec<f64>, mut b: Vec<f64>) -> bool {
        a.sort_by(f64::total_cmp);
        b.sort_by(f64::total_cmp);
        let (n, m) = (a.len() as f64, b.len() as f64);
        let (mut i, mut j, mut d) = (0, 0, 0f64);
        while i < a.len() && j < b.len() {
            if a[i] <= b[j] {
                i += 1;
            } else {
                j += 1;
            }
            d = d.max((i as f64 / n - j as f64 / m).abs());
        }
        let critical = (-(1e-4f64 / 2.0).ln() / 2.0).sqrt() * ((n + m) / (n * m)).sqrt();
        d <= critical
    }

    /// Result counts from two log sets with the same decrypted counts: in log set A each count
    /// block is what the counter holds after summing two comparisons (`low + 2·high`, two PBS
    /// outputs), in log set B a single PBS output. Unrefreshed, their noise tells the two apart
    /// (so the test can fail); released, it does not.
    #[test]
    fn released_noise_does_not_depend_on_the_log_set() {
        let k = keys();
        let sks = k.server.shortint();
        let identity = sks.generate_lookup_table(|x| x % 4);
        let pbs_of = |m: u64| {
            let fresh = k.client.integer().encrypt_one_block(m);
            sks.apply_lookup_table(&fresh, &identity)
        };
        let samples = 512;
        let history_a: Vec<Ciphertext> = (0..samples)
            .into_par_iter()
            .map(|_| {
                let mut high = pbs_of(0);
                sks.unchecked_scalar_mul_assign(&mut high, 2);
                sks.unchecked_add_assign(&mut high, &pbs_of(1));
                high
            })
            .collect();
        let history_b: Vec<Ciphertext> = (0..samples).into_par_iter().map(|_| pbs_of(1)).collect();
        assert!(
            !same_distribution(noise(&history_a), noise(&history_b)),
            "unrefreshed counts must differ in noise (else this test cannot fail)"
        );
        let as_counts = |blocks: &[Ciphertext]| -> Vec<RadixCiphertext> {
            blocks
                .chunks(COUNT_BLOCKS)
                .map(|c| RadixCiphertext::from(c.to_vec()))
                .collect()
        };
        let released = |blocks: &[Ciphertext]| -> Vec<Ciphertext> {
            release(
                sks,
                k.server.rerandomization(),
                &as_counts(blocks),
                32,
                false,
            )
            .into_iter()
            .flat_map(|c| c.blocks().to_vec())
            .collect()
        };
        let (a, b) = (released(&history_a), released(&history_b));
        assert!(a
            .iter()
            .chain(&b)
            .all(|x| k.client.integer().decrypt_one_block(x) == 1));
        assert!(
            same_distribution(noise(&a), noise(&b)),
            "released counts must not reveal the server's history through their noise"
        );
    }
}
