//! Bootstrap throughput of the pinned KS32 compute set against the classic KS-PBS set it
//! replaced, measured in the same run, interleaved (these 2 shared cores are noisy: compare the
//! ratio, not the rates). `cargo bench --bench atomic_pattern` (env `PBS_PER_ROUND`, `ROUNDS`).

use std::time::Instant;

use rayon::prelude::*;
use tfhe::shortint::parameters::v1_7::V1_7_PARAM_MESSAGE_2_CARRY_2_KS_PBS_TUNIFORM_2M128 as CLASSIC;
use tfhe::shortint::{gen_keys, ClientKey, ServerKey};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// PBS per second over `n` independent bootstraps of fresh blocks, all cores.
fn rate(ck: &ClientKey, sk: &ServerKey, n: usize) -> f64 {
    let lut = sk.generate_lookup_table(|x| (x + 1) % 4);
    let blocks: Vec<_> = (0..n).map(|i| ck.encrypt((i % 4) as u64)).collect();
    let start = Instant::now();
    let out: Vec<_> = blocks
        .par_iter()
        .map(|b| sk.apply_lookup_table(b, &lut))
        .collect();
    let seconds = start.elapsed().as_secs_f64();
    for (i, o) in out.iter().enumerate() {
        assert_eq!(
            ck.decrypt(o),
            ((i % 4) as u64 + 1) % 4,
            "a bootstrap failed"
        );
    }
    n as f64 / seconds
}

fn main() {
    let (n, rounds) = (env("PBS_PER_ROUND", 256), env("ROUNDS", 3));
    let classic = gen_keys(CLASSIC);
    let ks32 = gen_keys(iocz::params::COMPUTE);
    let (mut c, mut k) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        c.push(rate(&classic.0, &classic.1, n));
        k.push(rate(&ks32.0, &ks32.1, n));
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let (c, k) = (mean(&c), mean(&k));
    println!(
        "{{\"pbs_per_round\": {n}, \"rounds\": {rounds}, \"classic_pbs_per_second\": {c:.1}, \
         \"ks32_pbs_per_second\": {k:.1}, \"ks32_time_per_pbs_ratio\": {:.3}}}",
        c / k
    );
}
