//! Server side of the lookup kernel: per bin, read every record block of the bin's entry (a
//! CMux tree over the window bits picks the window's cell polynomial, one external product by
//! the entry's cell GGSW adds its four cells at coefficient 0, sample extraction gives an LWE
//! under the key of PBS outputs), test the tag five bits per bootstrap, AND the results, and
//! gate each 2-bit count chunk by the match in one bootstrap of a re-randomised input, whose
//! output is the released block. Bins are processed in batches; every bootstrap of a batch
//! runs in one rayon pass.

use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;
use tfhe::core_crypto::fft_impl::fft64::crypto::ggsw::FourierGgswCiphertext;
use tfhe::core_crypto::fft_impl::fft64::math::fft::FftView;
use tfhe::core_crypto::fft_impl::fft64::{c64, ABox};
use tfhe::core_crypto::prelude::*;
use tfhe::integer::RadixCiphertext;
use tfhe::shortint::ciphertext::{Degree, NoiseLevel};
use tfhe::shortint::server_key::LookupTableOwned;
use tfhe::shortint::{AtomicPatternKind, Ciphertext, CompactPublicKey, PBSOrder, ServerKey};

use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::kernels::counter::trivial_zero;
use crate::kernels::release::rerandomize;
use crate::lookup::filter::{self, BinFilter};
use crate::lookup::hashing::{chunks_for, location, tag_chunks, Location};
use crate::lookup::query::{LookupQuery, COUNT_DELTA, TAG_DELTA};
use crate::lookup::{ggsw, TAG_CHUNKS, WINDOW};
use crate::params::{COUNT_BLOCKS, MAX_NOISE_LEVEL, RELEASE_WIDTHS};

/// A GGSW in the Fourier domain, ready for external products.
pub type Fourier = FourierGgswCiphertext<ABox<[c64]>>;

/// Bins processed together (bounds memory; every bootstrap of a batch runs in one pass; about
/// 1,000 PBS at 64 bits: a stop request is seen within seconds).
pub const BATCH_BINS: usize = 32;

static EXTERNAL_PRODUCTS: AtomicU64 = AtomicU64::new(0);
/// Wall nanoseconds of the phases: filters (peeling, cells), reads (CMux trees and external
/// products), bootstraps (tag tests, ANDs, re-randomisation and gates).
static PHASE_NANOS: [AtomicU64; 3] = [AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0)];

/// External products (CMux steps and cell reads) run by lookups since the process started.
pub fn external_products() -> u64 {
    EXTERNAL_PRODUCTS.load(Ordering::Relaxed)
}

/// Wall seconds lookups spent since the process started in `(filters, reads, bootstraps)`
/// (diagnostics for benchmarks).
pub fn phase_seconds() -> (f64, f64, f64) {
    let s = |i: usize| PHASE_NANOS[i].load(Ordering::Relaxed) as f64 / 1e9;
    (s(0), s(1), s(2))
}

fn timed<T>(phase: usize, f: impl FnOnce() -> T) -> T {
    let start = std::time::Instant::now();
    let out = f();
    PHASE_NANOS[phase].fetch_add(start.elapsed().as_nanos() as u64, Ordering::Relaxed);
    out
}

/// What one bin entry evaluates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plan {
    /// Tag chunks compared (`⌈bits / 5⌉`).
    pub tag_chunks: usize,
    /// Count chunks per group (`count_bits / 2`).
    pub count_chunks: usize,
    /// Groups.
    pub groups: usize,
}

impl Plan {
    /// The plan comparing `bits` bits, releasing `count_bits`-bit counts in `groups` groups.
    pub fn new(bits: usize, count_bits: usize, groups: usize) -> Plan {
        Plan {
            tag_chunks: chunks_for(bits),
            count_chunks: count_bits / 2,
            groups,
        }
    }

    /// Record blocks read per entry.
    pub fn blocks(&self) -> usize {
        self.tag_chunks + self.groups * self.count_chunks
    }

    /// Bootstraps per entry: tag tests, the AND chain, one gate per count chunk and group.
    pub fn pbs(&self) -> u64 {
        (self.tag_chunks + and_steps(self.tag_chunks) + self.groups * self.count_chunks) as u64
    }
}

/// AND bootstraps over `n` tag results: 5 in the first, then the running AND and 4 more each.
pub fn and_steps(n: usize) -> usize {
    n.saturating_sub(1).div_ceil(4).max(1)
}

/// The server's values laid out in the query's bins (public hashes only, no FHE).
pub struct Layout {
    /// Each value's location.
    pub locations: Vec<Location>,
    /// Values of each bin.
    pub members: Vec<Vec<u32>>,
    /// Each value's tag chunks.
    pub tags: Vec<[u8; TAG_CHUNKS]>,
}

impl Layout {
    /// Lay the distinct `digests` out in `query`'s bins.
    pub fn new(query: &LookupQuery, digests: &[Digest]) -> Layout {
        let seed = query.seed();
        let locations: Vec<Location> = digests.par_iter().map(|d| location(&seed, d)).collect();
        let members = filter::bin_members(&locations, query.entries());
        let tags = digests.par_iter().map(|d| tag_chunks(&seed, d)).collect();
        Layout {
            locations,
            members,
            tags,
        }
    }
}

/// Encrypted released per-entry counts, `[group][entry]`, of the distinct `digests` weighted by
/// `weights[group][value]`, comparing `bits` bits (⌈bits/5⌉ tag chunks), for entries (bins) in
/// `range`; other entries are trivial zeros. Counts have `count_bits / 2` released blocks
/// (weights are clamped to `2^count_bits − 1` in the clear: a saturated count decrypts as that)
/// followed by trivial zeros up to a full count. `progress` is called with the PBS done.
#[allow(clippy::too_many_arguments)]
pub fn count_bins(
    sks: &ServerKey,
    cpk: &CompactPublicKey,
    query: &LookupQuery,
    digests: &[Digest],
    weights: &[Vec<u64>],
    bits: usize,
    count_bits: usize,
    range: Range<usize>,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Vec<Vec<RadixCiphertext>>> {
    if !RELEASE_WIDTHS.contains(&count_bits) {
        return Err(Error::InvalidInput(format!(
            "count width must be one of {RELEASE_WIDTHS:?} bits, not {count_bits}"
        )));
    }
    if range.end > query.entries() || range.start > range.end {
        return Err(Error::InvalidInput(format!(
            "bins {}..{} are outside the query's {} bins",
            range.start,
            range.end,
            query.entries()
        )));
    }
    let groups = weights.len();
    let zero = || RadixCiphertext::from(vec![trivial_zero(sks); COUNT_BLOCKS]);
    let mut out: Vec<Vec<RadixCiphertext>> = vec![vec![zero(); query.entries()]; groups];
    let plan = Plan::new(bits, count_bits, groups);
    let layout = Layout::new(query, digests);
    let clamp = (1u64 << count_bits) - 1;
    let luts = Luts::new(sks);
    for start in range.clone().step_by(BATCH_BINS) {
        crate::interrupt::check()?;
        let batch = start..(start + BATCH_BINS).min(range.end);
        let filters = timed(0, || {
            filter::solve_bins(
                &layout.members,
                batch.clone(),
                &layout.locations,
                query.window_bits(),
            )
        })?;
        let record = |v: u32, block: usize| -> u64 {
            if block < plan.tag_chunks {
                u64::from(layout.tags[v as usize][block])
            } else {
                let (g, k) = (
                    (block - plan.tag_chunks) / plan.count_chunks,
                    (block - plan.tag_chunks) % plan.count_chunks,
                );
                (weights[g][v as usize].min(clamp) >> (2 * k)) & 3
            }
        };
        let reads: Vec<Vec<LweCiphertextOwned<u64>>> = timed(1, || {
            batch
                .clone()
                .into_par_iter()
                .zip(&filters)
                .map(|(b, f)| read_entry(query, b, f, &layout, &plan, &record))
                .collect()
        });
        let gated = timed(2, || {
            evaluate(sks, cpk, &luts, query, batch.clone(), reads, &plan)
        });
        progress(plan.pbs() * batch.len() as u64);
        for (b, per_group) in batch.zip(gated) {
            for (g, mut blocks) in per_group.into_iter().enumerate() {
                blocks.resize_with(COUNT_BLOCKS, || trivial_zero(sks));
                out[g][b] = RadixCiphertext::from(blocks);
            }
        }
    }
    Ok(out)
}

/// Every record block of bin `b`'s entry: tag chunks (cells of 32 values at 2^59), then count
/// chunks group by group (cells of 8 values at 2^61).
fn read_entry(
    query: &LookupQuery,
    b: usize,
    filter: &BinFilter,
    layout: &Layout,
    plan: &Plan,
    record: &(dyn Fn(u32, usize) -> u64 + Sync),
) -> Vec<LweCiphertextOwned<u64>> {
    let w = filter.window_bits as usize;
    let cells = ggsw::to_fourier(query.cells(b));
    let window: Vec<Fourier> = query.window(b)[..w].iter().map(ggsw::to_fourier).collect();
    (0..plan.blocks())
        .into_par_iter()
        .map(|block| {
            let (modulus, delta) = if block < plan.tag_chunks {
                (32, TAG_DELTA)
            } else {
                (8, COUNT_DELTA)
            };
            let leaves: Vec<u64> = filter
                .cells(&layout.locations, modulus, |v| record(v, block))
                .into_iter()
                .flatten()
                .map(|c| c.wrapping_mul(delta))
                .collect();
            read(&leaves, &window, &cells)
        })
        .collect()
}

/// One read: the CMux tree over `window` picks the leaf polynomial of the entry's window from
/// `leaves` (2^w polynomials of N coefficients), the external product by `cells` =
/// GGSW(Σ X^-c) puts the sum of the entry's cells at coefficient 0, which is extracted.
pub fn read(leaves: &[u64], window: &[Fourier], cells: &Fourier) -> LweCiphertextOwned<u64> {
    let p = crate::params::COMPUTE;
    let n = p.polynomial_size;
    let glwe_size = p.glwe_dimension.to_glwe_size();
    let fft = Fft::new(n);
    let fft = fft.as_view();
    let mut buffers = ComputationBuffers::new();
    let req = cmux_assign_mem_optimized_requirement::<u64>(glwe_size, n, fft)
        .or(add_external_product_assign_mem_optimized_requirement::<u64>(glwe_size, n, fft));
    buffers.resize(req.unaligned_bytes_required());
    let acc = select(leaves, window, window.len(), 0, fft, &mut buffers);
    let mut summed = GlweCiphertext::new(0u64, glwe_size, n, p.ciphertext_modulus);
    add_external_product_assign_mem_optimized(&mut summed, cells, &acc, fft, buffers.stack());
    EXTERNAL_PRODUCTS.fetch_add(1, Ordering::Relaxed);
    let mut lwe = LweCiphertext::new(
        0u64,
        glwe_size
            .to_glwe_dimension()
            .to_equivalent_lwe_dimension(n)
            .to_lwe_size(),
        p.ciphertext_modulus,
    );
    extract_lwe_sample_from_glwe_ciphertext(&summed, &mut lwe, MonomialDegree(0));
    lwe
}

/// The GLWE holding leaf polynomial `base + (encrypted bits of window[..top])`.
fn select(
    leaves: &[u64],
    window: &[Fourier],
    top: usize,
    base: usize,
    fft: FftView<'_>,
    buffers: &mut ComputationBuffers,
) -> GlweCiphertextOwned<u64> {
    let p = crate::params::COMPUTE;
    if top == 0 {
        let mut leaf = GlweCiphertext::new(
            0u64,
            p.glwe_dimension.to_glwe_size(),
            p.polynomial_size,
            p.ciphertext_modulus,
        );
        leaf.get_mut_body()
            .as_mut()
            .copy_from_slice(&leaves[base * WINDOW..(base + 1) * WINDOW]);
        return leaf;
    }
    let mut lo = select(leaves, window, top - 1, base, fft, buffers);
    let mut hi = select(
        leaves,
        window,
        top - 1,
        base + (1 << (top - 1)),
        fft,
        buffers,
    );
    cmux_assign_mem_optimized(&mut lo, &mut hi, &window[top - 1], fft, buffers.stack());
    EXTERNAL_PRODUCTS.fetch_add(1, Ordering::Relaxed);
    lo
}

/// A read LWE as a shortint block the pinned server key bootstraps (nominal noise: see
/// docs/LOOKUP.md, "Noise").
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

/// The bootstrap tables of the kernel.
pub struct Luts {
    /// `[x == 0]`: 1 on a tag chunk match, −1 at 16 (negacyclic half), 0 otherwise.
    pub is_zero: LookupTableOwned,
    /// `[x == n]` for n = 0..=5: the AND of n results.
    pub and: Vec<LookupTableOwned>,
    /// `x = 4c + 2b` → `c` when `b` (x ≡ 2 mod 4), else 0; non-members' `c ≥ 4` fall in the
    /// negacyclic half, where it is also 0.
    pub gate: LookupTableOwned,
}

impl Luts {
    /// Build them for `sks`.
    pub fn new(sks: &ServerKey) -> Luts {
        Luts {
            is_zero: sks.generate_lookup_table(|x| u64::from(x == 0)),
            and: (0..=MAX_NOISE_LEVEL as u64)
                .map(|n| sks.generate_lookup_table(move |x| u64::from(x == n)))
                .collect(),
            gate: sks.generate_lookup_table(|x| if x % 4 == 2 { x / 4 } else { 0 }),
        }
    }
}

/// Tag test, AND and gate of a batch of bins: per bin, per group, the released count blocks.
fn evaluate(
    sks: &ServerKey,
    cpk: &CompactPublicKey,
    luts: &Luts,
    query: &LookupQuery,
    batch: Range<usize>,
    reads: Vec<Vec<LweCiphertextOwned<u64>>>,
    plan: &Plan,
) -> Vec<Vec<Vec<Ciphertext>>> {
    let p = crate::params::COMPUTE;
    let lwe_size = p
        .glwe_dimension
        .to_equivalent_lwe_dimension(p.polynomial_size)
        .to_lwe_size();
    // Tag tests of every bin in one pass: read + (−t), bootstrapped by [x == 0].
    let tags: Vec<(GlweCiphertextOwned<u64>, usize)> = batch
        .clone()
        .into_par_iter()
        .map(|b| {
            let (glwe, base) = query.tag(b);
            (glwe.clone().decompress_into_glwe_ciphertext(), base)
        })
        .collect();
    let jobs: Vec<(usize, usize)> = (0..reads.len())
        .flat_map(|i| (0..plan.tag_chunks).map(move |j| (i, j)))
        .collect();
    let equal: Vec<Ciphertext> = jobs
        .par_iter()
        .map(|&(i, j)| {
            let (glwe, base) = (&tags[i].0, tags[i].1);
            let mut tag = LweCiphertext::new(0u64, lwe_size, p.ciphertext_modulus);
            extract_lwe_sample_from_glwe_ciphertext(glwe, &mut tag, MonomialDegree(base + j));
            let mut diff = as_block(sks, reads[i][j].clone(), 15);
            lwe_ciphertext_add_assign(&mut diff.ct, &tag);
            sks.apply_lookup_table(&diff, &luts.is_zero)
        })
        .collect();
    let per_bin: Vec<&[Ciphertext]> = equal.chunks(plan.tag_chunks).collect();
    // AND chain, one step for all bins at a time: 5 results, then the running AND and 4 more.
    let first = plan.tag_chunks.min(MAX_NOISE_LEVEL);
    let mut matched: Vec<Ciphertext> = per_bin
        .par_iter()
        .map(|r| sum_and(sks, luts, None, &r[..first]))
        .collect();
    let mut done = first;
    while done < plan.tag_chunks {
        let next = (done + MAX_NOISE_LEVEL - 1).min(plan.tag_chunks);
        matched = matched
            .into_par_iter()
            .zip(&per_bin)
            .map(|(m, r)| sum_and(sks, luts, Some(m), &r[done..next]))
            .collect();
        done = next;
    }
    // Gates: re-randomise every count read, add 2·match, bootstrap: the released block.
    let mut counts: Vec<Ciphertext> = reads
        .into_iter()
        .flat_map(|r| r.into_iter().skip(plan.tag_chunks))
        .map(|lwe| as_block(sks, lwe, 3))
        .collect();
    rerandomize(cpk, &mut counts);
    let per_entry = plan.groups * plan.count_chunks;
    let gated: Vec<Ciphertext> = counts
        .par_iter()
        .enumerate()
        .map(|(i, c)| {
            let twice = sks.unchecked_scalar_mul(&matched[i / per_entry], 2);
            let mut x = c.clone();
            sks.unchecked_add_assign(&mut x, &twice);
            sks.apply_lookup_table(&x, &luts.gate)
        })
        .collect();
    gated
        .chunks(per_entry)
        .map(|entry| {
            entry
                .chunks(plan.count_chunks)
                .map(<[Ciphertext]>::to_vec)
                .collect()
        })
        .collect()
}

/// `[running + Σ results == n]`: the AND of a running boolean (if any) and ≤ 5 tag results.
fn sum_and(
    sks: &ServerKey,
    luts: &Luts,
    running: Option<Ciphertext>,
    results: &[Ciphertext],
) -> Ciphertext {
    let n = results.len() + usize::from(running.is_some());
    let mut sum = running.unwrap_or_else(|| results[0].clone());
    let skip = usize::from(n == results.len());
    for r in &results[skip..] {
        sks.unchecked_add_assign(&mut sum, r);
    }
    sks.apply_lookup_table(&sum, &luts.and[n])
}
