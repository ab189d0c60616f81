//! `cargo bench`: time and PBS count of the core kernels under the pinned parameters.
//!
//! PBS counts are deterministic (tfhe's `pbs-stats` counter); wall time on a shared machine is
//! noisy, so compare kernels within one run. Each benchmark first prints `pbs/op`.

use criterion::{criterion_group, criterion_main, Criterion};
use iocz::ciphertexts;
use iocz::digest::Digest;
use iocz::kernels::{
    and_tree, dedup, encrypted, matching, selectors::DigitBits, selectors::Selectors,
};
use iocz::keys::{ClientKey, ServerKey};
use std::hint::black_box;
use std::time::Duration;
use tfhe::integer::IntegerCiphertext;

fn digest(seed: u32) -> Digest {
    use sha2::{Digest as _, Sha256};
    Digest(Sha256::digest(seed.to_le_bytes()).into())
}

/// Run `f` once and report its PBS count, then benchmark it.
fn bench<T>(c: &mut Criterion, name: &str, mut f: impl FnMut() -> T) {
    tfhe::reset_pbs_count();
    black_box(f());
    println!("{name}: {} pbs/op", tfhe::get_pbs_count());
    c.bench_function(name, |b| b.iter(|| black_box(f())));
}

fn kernels(c: &mut Criterion) {
    let client = ClientKey::generate();
    let server: ServerKey = client.server_key().unwrap();
    let sks = server.shortint();
    let ioc = digest(0);
    let (_, ioc_radix) = ciphertexts::value_radix(&client.encrypt_value(&ioc).unwrap()).unwrap();

    bench(c, "pbs/raw", || {
        let lut = sks.generate_lookup_table(|x| x);
        sks.apply_lookup_table(&ioc_radix.blocks()[0], &lut)
    });
    for bits in [DigitBits::Two, DigitBits::Four] {
        bench(c, &format!("selectors/build/{}bit", bits.bits()), || {
            Selectors::new(sks, &ioc_radix, bits, 256)
        });
    }
    let luts = and_tree::AndLuts::new(sks);
    for bits in [DigitBits::Two, DigitBits::Four] {
        let sel = Selectors::new(sks, &ioc_radix, bits, 256);
        for compare_bits in [256, 64] {
            let value = digest(1);
            bench(
                c,
                &format!("eq_clear/{}bit-digits/{compare_bits}", bits.bits()),
                || and_tree::and_all(sks, &luts, &sel.select(&value, compare_bits)),
            );
        }
    }
    let sel4 = Selectors::new(sks, &ioc_radix, DigitBits::Four, 256);
    // 64 distinct values (one is the IOC) with multiplicities 1..=64: the fused count.
    let column: Vec<Option<Digest>> = (0..64u32)
        .flat_map(|i| std::iter::repeat_n(Some(digest(i)), i as usize + 1))
        .collect();
    let distinct = dedup::distinct_with_counts(column);
    bench(c, "count_clear/64-distinct/4bit", || {
        matching::count_clear(sks, &sel4, &distinct, 256)
    });

    let pk = client.public_key();
    let cell = pk.encrypt_cell(&digest(2)).unwrap();
    bench(c, "cell/expand", || server.expand_cell(&cell).unwrap());
    let cell_radix = server.expand_cell(&cell).unwrap();
    bench(c, "eq_encrypted/tfhe-eq", || {
        encrypted::match_encrypted(
            server.integer(),
            &ioc_radix,
            std::slice::from_ref(&cell_radix),
        )
    });
    lookup_kernels(c, &client, &server);
}

/// The lookup kernel's parts: one cell read (a four-monomial GGSW external product in a
/// single 2048-cell window + extraction), one CMux tree level, and one whole bin count and release
/// (1 IOC in 2 bins, 1,000 values, 64-bit tags: tag tests, AND, gates).
fn lookup_kernels(c: &mut Criterion, client: &ClientKey, server: &ServerKey) {
    use iocz::lookup::query::LookupOptions;
    use iocz::lookup::{eval, ggsw, query::LookupQuery, query::TAG_DELTA};
    use tfhe::core_crypto::prelude::{cmux_assign, GlweCiphertext};
    let key = client.glwe_secret_key();
    let window: Vec<u64> = (0..2048u64).map(|p| (p % 32) * TAG_DELTA).collect();
    let cells = ggsw::to_fourier(&ggsw::encrypt_monomial_sum(&key, &[7, 600, 1100, 1900]));
    bench(c, "lookup/cell_read", || eval::read(&window, &[], &cells));
    let bit = ggsw::to_fourier(&ggsw::encrypt_bit(&key, 1));
    let p = iocz::params::COMPUTE;
    let glwe = || {
        GlweCiphertext::new(
            0u64,
            p.glwe_dimension.to_glwe_size(),
            p.polynomial_size,
            p.ciphertext_modulus,
        )
    };
    bench(c, "lookup/cmux_level", || {
        let (mut a, mut b) = (glwe(), glwe());
        cmux_assign(&mut a, &mut b, &bit);
        a
    });
    let values: Vec<Digest> = (0..1000u32).map(digest).collect();
    let weights = vec![(0..1000u64).collect::<Vec<u64>>()];
    let options = LookupOptions {
        max_bits: 20,
        forced: true,
        count_bits: 32,
    };
    let (query, _) = LookupQuery::encrypt(&key, &[values[5]], 0, options).unwrap();
    bench(c, "lookup/bins/1000-values/64bit", || {
        eval::count_bins(
            server.shortint(),
            server.rerandomization(),
            &query,
            &values,
            &weights,
            64,
            32,
            0..query.entries(),
            &|_| {},
        )
        .unwrap()
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(5));
    targets = kernels
}
criterion_main!(benches);
