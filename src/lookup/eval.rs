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
use tfhe::shortint::{CompactPublicKey, ServerKey};

use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::kernels::counter::trivial_zero;
use crate::lookup::filter::{self, BinFilter};
use crate::lookup::gates::{evaluate, Luts, Plan};
use crate::lookup::hashing::{location, tag_chunks, Location};
use crate::lookup::query::{LookupQuery, COUNT_DELTA, TAG_DELTA};
use crate::lookup::{ggsw, TAG_CHUNKS, WINDOW};
use crate::params::{COUNT_BLOCKS, RELEASE_WIDTHS};

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
    let cells = ggsw::to_fourier(&query.cells(b));
    let window: Vec<Fourier> = query.window(b, w).iter().map(ggsw::to_fourier).collect();
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
