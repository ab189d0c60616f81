//! The pinned tfhe parameter set both parties must agree on, and the size limits applied to
//! everything read from outside.

use tfhe::shortint::parameters::v1_7::{
    V1_7_COMP_PARAM_MESSAGE_2_CARRY_2_KS_PBS_TUNIFORM_2M128,
    V1_7_PARAM_KEYSWITCH_PKE_TO_SMALL_MESSAGE_2_CARRY_2_KS_PBS_TUNIFORM_2M128_ZKV2,
    V1_7_PARAM_MESSAGE_2_CARRY_2_KS32_PBS_TUNIFORM_2M128,
    V1_7_PARAM_PKE_TO_SMALL_MESSAGE_2_CARRY_2_KS_PBS_TUNIFORM_2M128_ZKV2,
};
use tfhe::shortint::parameters::{
    CompactPublicKeyEncryptionParameters, CompressionParameters, KeySwitch32PBSParameters,
    ReRandomizationParameters, ShortintKeySwitchingParameters,
};
use tfhe::shortint::AtomicPatternKind;
use tfhe::{Config, ConfigBuilder};

/// Human-readable name of the pinned parameter set (shown in reprs and docs).
pub const PARAMETER_SET: &str = "V1_7_PARAM_MESSAGE_2_CARRY_2_KS32_PBS_TUNIFORM_2M128 \
     + V1_7_PARAM_PKE_TO_SMALL_MESSAGE_2_CARRY_2_KS_PBS_TUNIFORM_2M128_ZKV2 \
     + V1_7_COMP_PARAM_MESSAGE_2_CARRY_2_KS_PBS_TUNIFORM_2M128 + rerand DerivedCPKWithoutKeySwitch";

/// Compute parameters: 2 message bits + 2 carry bits per block, TUniform noise,
/// 128-bit security, p-fail 2^-129.58 (tfhe-rs 1.7 `v1_7` set). KS32 atomic pattern: the key
/// switch outputs 32-bit LWEs (dimension 918), the bootstrap (GLWE 1 × 2048, one level of
/// base 2^23) is the classic set's, so ciphertexts, compression and re-randomisation are too.
pub const COMPUTE: KeySwitch32PBSParameters = V1_7_PARAM_MESSAGE_2_CARRY_2_KS32_PBS_TUNIFORM_2M128;
/// The atomic pattern of [`COMPUTE`]: every block iocz makes or reads carries it.
pub const ATOMIC_PATTERN: AtomicPatternKind = AtomicPatternKind::KeySwitch32;
/// Dedicated compact public key encryption parameters (LWE dimension 2048).
pub const PKE: CompactPublicKeyEncryptionParameters =
    V1_7_PARAM_PKE_TO_SMALL_MESSAGE_2_CARRY_2_KS_PBS_TUNIFORM_2M128_ZKV2;
/// Key switch from the public-key encryption key to the compute key.
pub const PKE_KEYSWITCH: ShortintKeySwitchingParameters =
    V1_7_PARAM_KEYSWITCH_PKE_TO_SMALL_MESSAGE_2_CARRY_2_KS_PBS_TUNIFORM_2M128_ZKV2;

/// List compression of released counts: 256 blocks packed per GLWE (k = 4, N = 256), stored
/// on 12 bits; 128-bit security, p-fail 2^-129.275 (tfhe-rs 1.7 `v1_7` set). The three sets
/// above and this one are exactly tfhe's `V1_7_META_PARAM_CPU_2_2_KS32_PBS_PKE_TO_SMALL_ZKV2_TUNIFORM_2M128`
/// without its noise-squashing part.
pub const COMPRESSION: CompressionParameters =
    V1_7_COMP_PARAM_MESSAGE_2_CARRY_2_KS_PBS_TUNIFORM_2M128;
/// Re-randomisation of released counts: encryptions of zero under a compact public key derived
/// from the compute key (no key switch), as in the same tfhe meta parameter set.
pub const RERANDOMIZATION: ReRandomizationParameters =
    ReRandomizationParameters::DerivedCPKWithoutKeySwitch;

/// Number of 2-bit blocks in a 256-bit digest.
pub const DIGEST_BLOCKS: usize = 128;
/// Bits carried by one block.
pub const BLOCK_BITS: usize = 2;
/// Number of fresh (noise level 1) ciphertexts that may be summed before a bootstrap.
pub const MAX_NOISE_LEVEL: usize = 5;
/// Bit width of encrypted counts while the server computes (16 blocks): enough for 4 billion
/// rows. Released counts carry the width the query declares ([`RELEASE_WIDTHS`]).
pub const COUNT_BITS: usize = 32;
/// Widths a query may declare for its released counts; a count that does not fit saturates at
/// `2^bits − 1` ("at least that many").
pub const RELEASE_WIDTHS: [usize; 2] = [16, 32];
/// Default released count width.
pub const DEFAULT_RELEASE_BITS: usize = 32;
/// Number of blocks of an encrypted count.
pub const COUNT_BLOCKS: usize = COUNT_BITS / BLOCK_BITS;

/// Most slots an encrypted IOC set may have (about 60,000 IOCs with 2 hash functions).
pub const MAX_SET_SLOTS: usize = 1 << 17;

/// Largest client key file accepted.
pub const MAX_CLIENT_KEY_BYTES: u64 = 256 << 20;
/// Largest server (evaluation) key file accepted.
pub const MAX_SERVER_KEY_BYTES: u64 = 1 << 30;
/// Largest public key file accepted.
pub const MAX_PUBLIC_KEY_BYTES: u64 = 64 << 20;
/// Largest single ciphertext (value, cell, boolean or count) accepted.
pub const MAX_CIPHERTEXT_BYTES: u64 = 4 << 20;

/// The tfhe configuration built from the pinned parameters: dedicated compact public key
/// parameters, list compression and re-randomisation; no OPRF key, no noise squashing.
pub fn config() -> Config {
    without_compression()
        .enable_compression(COMPRESSION)
        .build()
}

/// [`config`] without list compression: what the server key sent to the company is checked
/// against once its compression key (checked on its own) is set aside, since it carries no
/// decompression key (only the agency decompresses, with a key derived from its client key).
pub fn config_without_compression() -> Config {
    without_compression().build()
}

fn without_compression() -> ConfigBuilder {
    ConfigBuilder::with_custom_parameters(COMPUTE)
        .use_dedicated_compact_public_key_parameters((PKE, PKE_KEYSWITCH))
        .enable_ciphertext_re_randomization(RERANDOMIZATION)
        .use_dedicated_oprf_key(false)
}
