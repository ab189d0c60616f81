//! Server side of the lookup kernel: per entry and candidate sub-table, read every output
//! block of the record at the entry's encrypted position (CMux tree over the high bits, one
//! external product by `X^-low`, sample extraction), then compare tags and gate multiplicities
//! with the pinned server key's bootstraps.

use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;
use tfhe::core_crypto::fft_impl::fft64::crypto::ggsw::FourierGgswCiphertext;
use tfhe::core_crypto::fft_impl::fft64::math::fft::FftView;
use tfhe::core_crypto::fft_impl::fft64::{c64, ABox};
use tfhe::core_crypto::prelude::*;
use tfhe::integer::RadixCiphertext;
use tfhe::shortint::ciphertext::{Degree, NoiseLevel};
use tfhe::shortint::server_key::LookupTableOwned;
use tfhe::shortint::{AtomicPatternKind, Ciphertext, PBSOrder, ServerKey};

use crate::digest::Digest;
use crate::error::Result;
use crate::kernels::and_tree::{and_all, AndLuts};
use crate::kernels::counter::trivial_zero;
use crate::lookup::hashing::nibble;
use crate::lookup::query::{delta, LookupQuery};
use crate::lookup::table::{place, ServerTable};
use crate::lookup::{ggsw, CANDIDATES, LOW_BITS, TAG_NIBBLES};
use crate::params::COUNT_BLOCKS;

/// A GGSW in the Fourier domain, ready for external products.
pub type Fourier = FourierGgswCiphertext<ABox<[c64]>>;

/// Entries whose GGSWs are expanded at once (bounds memory: about 2 MB per entry at b = 20).
const BATCH: usize = 32;

static EXTERNAL_PRODUCTS: AtomicU64 = AtomicU64::new(0);

/// External products (CMux steps and rotations) run by lookups since the process started.
pub fn external_products() -> u64 {
    EXTERNAL_PRODUCTS.load(Ordering::Relaxed)
}

/// What a lookup evaluates, derived from the server's values and the compared bits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// Sub-table position bits.
    pub table_bits: u32,
    /// Tag nibbles implied by the position (`table_bits / 4`): not compared.
    pub tag_skip: usize,
    /// Tag nibbles compared (`bits / 4 − tag_skip`).
    pub tag_nibbles: usize,
    /// 2-bit multiplicity blocks per group (enough for the largest multiplicity).
    pub mult_blocks: usize,
    /// Groups.
    pub groups: usize,
}

impl Plan {
    /// Output blocks read per candidate.
    pub fn blocks(&self) -> usize {
        self.tag_nibbles + self.groups * self.mult_blocks
    }
}

impl Plan {
    /// The plan for sub-tables of `table_bits` bits, comparing `bits` bits of the table hashes,
    /// in `groups` groups whose largest multiplicity is `max_weight`.
    pub fn new(table_bits: u32, bits: usize, groups: usize, max_weight: u64) -> Plan {
        let tag_skip = table_bits as usize / 4;
        Plan {
            table_bits,
            tag_skip,
            tag_nibbles: bits / 4 - tag_skip,
            mult_blocks: mult_blocks(max_weight),
            groups,
        }
    }
}

/// 2-bit blocks needed for `max` (at least 1, at most a count's 16).
pub fn mult_blocks(max: u64) -> usize {
    let bits = 64 - max.leading_zeros() as usize;
    bits.div_ceil(2).clamp(1, COUNT_BLOCKS)
}

/// Encrypted per-entry counts, `[group][entry]`, of the distinct `digests` weighted by
/// `weights[group][value]`, comparing the first `bits` bits (64, 128 or 256) of the table
/// hashes (position bits included).
/// Empty `digests` give trivial zeros at no cost.
pub fn count(
    sks: &ServerKey,
    query: &LookupQuery,
    digests: &[Digest],
    weights: &[Vec<u64>],
    bits: usize,
) -> Result<Vec<Vec<RadixCiphertext>>> {
    let groups = weights.len();
    let zero = || RadixCiphertext::from(vec![trivial_zero(sks); COUNT_BLOCKS]);
    if digests.is_empty() {
        return Ok(vec![vec![zero(); query.entries()]; groups]);
    }
    let table = place(&query.seed(), query.max_bits(), digests)?;
    let max = weights.iter().flatten().copied().max().unwrap_or(0);
    let plan = Plan::new(table.bits, bits, groups, max);
    let luts = Luts::new(sks);
    let mut out: Vec<Vec<RadixCiphertext>> = vec![Vec::with_capacity(query.entries()); groups];
    for start in (0..query.entries()).step_by(BATCH) {
        let batch: Vec<usize> = (start..(start + BATCH).min(query.entries())).collect();
        let looked = read_records(query, &batch, &table, &plan, weights);
        let counts: Vec<Vec<RadixCiphertext>> = batch
            .par_iter()
            .zip(looked)
            .map(|(&e, records)| entry_counts(sks, &luts, query, e, &plan, records))
            .collect();
        for per_group in counts {
            for (g, c) in per_group.into_iter().enumerate() {
                out[g].push(c);
            }
        }
    }
    Ok(out)
}

/// The bootstrap tables of the comparison and gating steps.
struct Luts {
    is_zero: LookupTableOwned,
    gate: LookupTableOwned,
    refresh: LookupTableOwned,
    and: AndLuts,
}

impl Luts {
    fn new(sks: &ServerKey) -> Luts {
        Luts {
            is_zero: sks.generate_lookup_table(|x| u64::from(x == 0)),
            // x = m + 4·b: m if the boolean b is set, else 0.
            gate: sks.generate_lookup_table(|x| x.saturating_sub(4)),
            refresh: sks.generate_lookup_table(|x| x % 4),
            and: AndLuts::new(sks),
        }
    }
}

/// Records of one entry: `[candidate][block]` extracted LWEs (blocks: tag nibbles, then
/// multiplicity blocks group by group).
type Records = Vec<Vec<LweCiphertextOwned<u64>>>;

/// Look up every block of every candidate of the `batch` entries.
fn read_records(
    query: &LookupQuery,
    batch: &[usize],
    table: &ServerTable,
    plan: &Plan,
    weights: &[Vec<u64>],
) -> Vec<Records> {
    let high = (table.bits - LOW_BITS) as usize;
    // Expand only the GGSWs this table size uses: the monomial and `high` bits.
    let fourier: Vec<Vec<Vec<Fourier>>> = batch
        .par_iter()
        .map(|&e| {
            (0..CANDIDATES)
                .map(|t| {
                    query.candidate(e, t)[..=high]
                        .iter()
                        .map(ggsw::to_fourier)
                        .collect()
                })
                .collect()
        })
        .collect();
    let d = delta();
    let mut records: Vec<Records> = vec![vec![Vec::new(); CANDIDATES]; batch.len()];
    for t in 0..CANDIDATES {
        let luts: Vec<Vec<u64>> = (0..plan.blocks())
            .into_par_iter()
            .map(|block| {
                if block < plan.tag_nibbles {
                    let n = plan.tag_skip + block;
                    table.block_lut(t, d, |i| nibble(&table.hashes[i][t], n))
                } else {
                    let (g, k) = (
                        (block - plan.tag_nibbles) / plan.mult_blocks,
                        (block - plan.tag_nibbles) % plan.mult_blocks,
                    );
                    table.block_lut(t, d, |i| (weights[g][i] >> (2 * k)) & 3)
                }
            })
            .collect();
        let read: Vec<Vec<LweCiphertextOwned<u64>>> = fourier
            .par_iter()
            .map(|per_t| {
                luts.par_iter()
                    .map(|lut| lookup_block(lut, &per_t[t]))
                    .collect()
            })
            .collect();
        for (r, blocks) in records.iter_mut().zip(read) {
            r[t] = blocks;
        }
    }
    records
}

/// One record block: the CMux tree over the high GGSWs `ggsws[1..]` picks the polynomial of
/// the position's high bits, the external product by `ggsws[0]` = GGSW(X^-low) rotates the
/// record to coefficient 0, which is extracted (an LWE under the GLWE-as-LWE key, the key of
/// PBS outputs).
pub fn lookup_block(lut: &[u64], ggsws: &[Fourier]) -> LweCiphertextOwned<u64> {
    let p = crate::params::COMPUTE;
    let n = p.polynomial_size;
    let glwe_size = p.glwe_dimension.to_glwe_size();
    let fft = Fft::new(n);
    let fft = fft.as_view();
    let mut buffers = ComputationBuffers::new();
    let req = cmux_assign_mem_optimized_requirement::<u64>(glwe_size, n, fft)
        .or(add_external_product_assign_mem_optimized_requirement::<u64>(glwe_size, n, fft));
    buffers.resize(req.unaligned_bytes_required());
    let high = &ggsws[1..];
    let acc = select(lut, high, high.len(), 0, fft, &mut buffers);
    let mut rotated = GlweCiphertext::new(0u64, glwe_size, n, p.ciphertext_modulus);
    add_external_product_assign_mem_optimized(&mut rotated, &ggsws[0], &acc, fft, buffers.stack());
    EXTERNAL_PRODUCTS.fetch_add(1, Ordering::Relaxed);
    let mut lwe = LweCiphertext::new(
        0u64,
        glwe_size
            .to_glwe_dimension()
            .to_equivalent_lwe_dimension(n)
            .to_lwe_size(),
        p.ciphertext_modulus,
    );
    extract_lwe_sample_from_glwe_ciphertext(&rotated, &mut lwe, MonomialDegree(0));
    lwe
}

/// The GLWE holding leaf polynomial `base + (encrypted bits of high[..top])`.
fn select(
    lut: &[u64],
    high: &[Fourier],
    top: usize,
    base: usize,
    fft: FftView<'_>,
    buffers: &mut ComputationBuffers,
) -> GlweCiphertextOwned<u64> {
    let p = crate::params::COMPUTE;
    let n = p.polynomial_size.0;
    if top == 0 {
        let mut leaf = GlweCiphertext::new(
            0u64,
            p.glwe_dimension.to_glwe_size(),
            p.polynomial_size,
            p.ciphertext_modulus,
        );
        leaf.get_mut_body()
            .as_mut()
            .copy_from_slice(&lut[base * n..(base + 1) * n]);
        return leaf;
    }
    let mut lo = select(lut, high, top - 1, base, fft, buffers);
    let mut hi = select(lut, high, top - 1, base + (1 << (top - 1)), fft, buffers);
    cmux_assign_mem_optimized(&mut lo, &mut hi, &high[top - 1], fft, buffers.stack());
    EXTERNAL_PRODUCTS.fetch_add(1, Ordering::Relaxed);
    lo
}

/// A looked-up LWE as a shortint block the pinned server key bootstraps.
pub fn as_block(sks: &ServerKey, lwe: LweCiphertextOwned<u64>, degree: u64) -> Ciphertext {
    Ciphertext::new(
        lwe,
        Degree::new(degree),
        NoiseLevel::NOMINAL,
        sks.message_modulus,
        sks.carry_modulus,
        AtomicPatternKind::Standard(PBSOrder::KeyswitchBootstrap),
    )
}

/// Per group, the encrypted count of entry `e` from its looked-up `records`.
fn entry_counts(
    sks: &ServerKey,
    luts: &Luts,
    query: &LookupQuery,
    e: usize,
    plan: &Plan,
    records: Records,
) -> Vec<RadixCiphertext> {
    let p = crate::params::COMPUTE;
    let tag_glwe = query.tag(e).clone().decompress_into_glwe_ciphertext();
    let extract = |coefficient: usize| {
        let mut lwe = LweCiphertext::new(
            0u64,
            p.glwe_dimension
                .to_equivalent_lwe_dimension(p.polynomial_size)
                .to_lwe_size(),
            p.ciphertext_modulus,
        );
        extract_lwe_sample_from_glwe_ciphertext(&tag_glwe, &mut lwe, MonomialDegree(coefficient));
        lwe
    };
    // Per candidate: the record's tag equals the IOC's (AND over nibbles of [v − t == 0]);
    // candidate c's tag nibbles sit at coefficients 64·c + i of the entry's GLWE.
    let matched: Vec<Ciphertext> = records
        .par_iter()
        .enumerate()
        .map(|(c, blocks)| {
            let tags: Vec<LweCiphertextOwned<u64>> = (0..plan.tag_nibbles)
                .map(|j| extract(c * TAG_NIBBLES + plan.tag_skip + j))
                .collect();
            let equal: Vec<Ciphertext> = blocks[..plan.tag_nibbles]
                .par_iter()
                .zip(&tags)
                .map(|(v, t)| {
                    let mut diff = as_block(sks, v.clone(), 15);
                    lwe_ciphertext_add_assign(&mut diff.ct, t);
                    sks.apply_lookup_table(&diff, &luts.is_zero)
                })
                .collect();
            let refs: Vec<&Ciphertext> = equal.iter().collect();
            and_all(sks, &luts.and, &refs)
        })
        .collect();
    (0..plan.groups)
        .map(|g| {
            let mut blocks: Vec<Ciphertext> = (0..plan.mult_blocks)
                .into_par_iter()
                .map(|k| {
                    let index = plan.tag_nibbles + g * plan.mult_blocks + k;
                    let gated: Vec<Ciphertext> = records
                        .iter()
                        .zip(&matched)
                        .map(|(blocks, b)| {
                            let mut x = as_block(sks, blocks[index].clone(), 3);
                            let b4 = sks.unchecked_scalar_mul(b, 4);
                            sks.unchecked_add_assign(&mut x, &b4);
                            sks.apply_lookup_table(&x, &luts.gate)
                        })
                        .collect();
                    // At most one candidate holds the IOC's value; with `bits` < 256 a false
                    // tag match may add another (probability ≤ 3·2^-bits), and the refresh keeps
                    // the block well-formed either way.
                    let mut sum = gated[0].clone();
                    for x in &gated[1..] {
                        sks.unchecked_add_assign(&mut sum, x);
                    }
                    sks.apply_lookup_table(&sum, &luts.refresh)
                })
                .collect();
            blocks.resize_with(COUNT_BLOCKS, || trivial_zero(sks));
            RadixCiphertext::from(blocks)
        })
        .collect()
}
