//! The evaluation key the agency sends and the company computes with: checked against the
//! pinned parameters on load, expanded once.

use std::sync::Arc;

use tfhe::conformance::ParameterSetConformant;
use tfhe::integer::compression_keys::CompressedCompressionKey;
use tfhe::integer::RadixCiphertext;
use tfhe::prelude::*;
use tfhe::shortint::list_compression::{CompressionKey, CompressionKeyConformanceParams};
use tfhe::{CompressedReRandomizationKey, CompressedServerKey, FheUint256};

use crate::ciphertexts;
use crate::error::{Error, Result};
use crate::params;
use crate::wire::envelope::{self, check_key, Kind};
use crate::wire::ids::KeyId;

/// The evaluation key: lets the other party compute on ciphertexts, not decrypt them.
pub struct ServerKey {
    id: KeyId,
    hl: tfhe::ServerKey,
    compression: CompressionKey,
    rerand: tfhe::shortint::CompactPublicKey,
    compressed: Arc<Vec<u8>>,
}

/// Split an iocz server key as sent into the rest and its compression key, each checked against
/// the pinned parameters (the compression key against the compression parameters, the rest
/// against [`params::config_without_compression`]: tfhe's own check wants a decompression key,
/// which the company never receives). None if it does not conform or carries a decompression key.
fn split_sent(
    compressed: CompressedServerKey,
) -> Option<(CompressedServerKey, CompressedCompressionKey)> {
    let (int, ksk, compression, decompression, ns, nsc, rerand, oprf, tag) =
        compressed.into_raw_parts();
    let compression = compression?;
    let compression_params =
        CompressionKeyConformanceParams::from((params::COMPUTE.into(), params::COMPRESSION));
    let rest =
        CompressedServerKey::from_raw_parts(int, ksk, None, None, ns, nsc, rerand, oprf, tag);
    (decompression.is_none()
        && compression.is_conformant(&compression_params)
        && rest.is_conformant(&params::config_without_compression().into()))
    .then_some((rest, compression))
}

impl ServerKey {
    pub(super) fn from_compressed(id: KeyId, compressed: CompressedServerKey) -> Result<ServerKey> {
        let bytes = envelope::seal(
            Kind::ServerKey,
            id,
            &compressed,
            params::MAX_SERVER_KEY_BYTES,
        )?;
        Self::expand(id, compressed, bytes)
    }

    /// Check (see [`split_sent`]) and expand a compressed server key whose serialized form is
    /// `bytes`.
    fn expand(id: KeyId, compressed: CompressedServerKey, bytes: Vec<u8>) -> Result<ServerKey> {
        let Some((rest, compression)) = split_sent(compressed) else {
            return Err(Error::Format(format!(
                "server key {id} is not made with iocz's parameters ({}), or was made by an \
                 older iocz: the agency must make a new key pair",
                params::PARAMETER_SET
            )));
        };
        let (int, ksk, _, _, _, _, rerand, _, tag) = rest.into_raw_parts();
        let Some(CompressedReRandomizationKey::DerivedCPKWithoutKeySwitch { cpk }) = rerand else {
            return Err(Error::Format(format!(
                "server key {id} has no re-randomisation key: it was made by an older iocz; the \
                 agency must make a new key pair"
            )));
        };
        let hl = tfhe::ServerKey::from_raw_parts(
            int.decompress(),
            ksk.map(|k| k.decompress()),
            None,
            None,
            None,
            None,
            None,
            None,
            tag,
        );
        Ok(ServerKey {
            id,
            hl,
            compression: compression.decompress().into_raw_parts(),
            rerand: cpk.decompress().into_raw_parts(),
            compressed: Arc::new(bytes),
        })
    }

    /// Deserialize a compressed server key, checking size and conformance to the pinned
    /// parameters, then expand it.
    pub fn from_bytes(bytes: &[u8]) -> Result<ServerKey> {
        // Conformance is checked by `expand` (`split_sent`).
        let (id, compressed): (_, CompressedServerKey) =
            envelope::unseal_key(bytes, Kind::ServerKey, params::MAX_SERVER_KEY_BYTES)?;
        Self::expand(id, compressed, bytes.to_vec())
    }

    /// The key that packs released counts (list compression).
    pub fn compression(&self) -> &CompressionKey {
        &self.compression
    }

    /// The compact public key, derived from the compute key, that re-randomises released
    /// counts.
    pub fn rerandomization(&self) -> &tfhe::shortint::CompactPublicKey {
        &self.rerand
    }

    /// The serialized compressed form (what is written to disk and sent).
    pub fn to_bytes(&self) -> &[u8] {
        &self.compressed
    }

    /// The key fingerprint.
    pub fn id(&self) -> KeyId {
        self.id
    }

    /// The integer-API server key used by every kernel.
    pub fn integer(&self) -> &tfhe::integer::ServerKey {
        self.hl.as_ref()
    }

    /// The shortint server key (blocks, lookup tables).
    pub fn shortint(&self) -> &tfhe::shortint::ServerKey {
        self.integer().as_ref()
    }

    /// Read one encrypted cell (made with the public key of this key pair) and expand it into
    /// the 128-block radix ciphertext kernels work on.
    pub fn expand_cell(&self, bytes: &[u8]) -> Result<RadixCiphertext> {
        let (id, list) = ciphertexts::open_cell(bytes)?;
        check_key(id, self.id, Kind::Cell)?;
        let expander = list
            .expand_with_key(&self.hl)
            .map_err(|e| Error::Format(format!("cannot expand encrypted cell: {e}")))?;
        let value: FheUint256 = expander
            .get(0)
            .map_err(|e| {
                Error::Format(format!("encrypted cell does not hold a 256-bit value: {e}"))
            })?
            .ok_or_else(|| Error::Format("encrypted cell is empty".into()))?;
        Ok(value.into_raw_parts().0)
    }
}
