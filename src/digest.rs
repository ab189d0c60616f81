//! 256-bit digests: the canonical form every IOC and every log value is reduced to before it
//! meets FHE. A SHA-256 hex string is its own digest.

use std::fmt;

use tfhe::integer::U256;

use crate::error::{Error, Result};

/// A 256-bit value, stored big-endian (the order of its hex form).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct Digest(pub [u8; 32]);

impl Digest {
    /// Parse 64 hex digits (either case, surrounding whitespace ignored).
    pub fn from_hex(text: &str) -> Result<Digest> {
        let t = text.trim();
        if t.len() != 64 {
            return Err(Error::InvalidInput(format!(
                "expected 64 hex digits (a SHA-256), got {} characters",
                t.chars().count()
            )));
        }
        let mut out = [0u8; 32];
        hex::decode_to_slice(t, &mut out).map_err(|_| {
            Error::InvalidInput(
                "expected 64 hex digits (a SHA-256), found a non-hex character".into(),
            )
        })?;
        Ok(Digest(out))
    }

    /// Take exactly 32 raw bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Digest> {
        let arr: [u8; 32] = bytes.try_into().map_err(|_| {
            Error::InvalidInput(format!(
                "expected a 32-byte digest, got {} bytes",
                bytes.len()
            ))
        })?;
        Ok(Digest(arr))
    }

    /// Lower-case hex form.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// The digest as tfhe's 256-bit integer.
    pub fn to_u256(&self) -> U256 {
        let mut value = U256::ZERO;
        value.copy_from_be_byte_slice(&self.0);
        value
    }

    /// Inverse of [`Digest::to_u256`].
    pub fn from_u256(value: U256) -> Digest {
        let mut out = [0u8; 32];
        value.copy_to_be_byte_slice(&mut out);
        Digest(out)
    }

    /// The `index`-th digit of `bits` bits (2 or 4), least significant first: the order of
    /// tfhe's radix blocks.
    pub fn digit(&self, bits: usize, index: usize) -> u8 {
        debug_assert!(bits == 2 || bits == 4);
        let per_byte = 8 / bits;
        let byte = self.0[31 - index / per_byte];
        (byte >> ((index % per_byte) * bits)) & ((1u8 << bits) - 1)
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str = "027cc450ef5f8c5f653329641ec1fed91f694e0d229928963b30f6b0d7d3a745";

    #[test]
    fn hex_round_trip_and_case() {
        let d = Digest::from_hex(&format!("  {}\n", SEED.to_uppercase())).unwrap();
        assert_eq!(d.to_hex(), SEED);
        assert_eq!(Digest::from_u256(d.to_u256()), d);
    }

    #[test]
    fn rejects_bad_hex() {
        assert!(Digest::from_hex(&SEED[1..]).is_err());
        assert!(Digest::from_hex(&format!("{}g", &SEED[1..])).is_err());
        assert!(Digest::from_hex("").is_err());
        assert!(Digest::from_bytes(&[0u8; 31]).is_err());
    }

    #[test]
    fn digits_match_u256_radix() {
        let d = Digest::from_hex(SEED).unwrap();
        let v = d.to_u256();
        for i in 0..128 {
            let expect =
                ((v >> (2 * i as u32)) & U256::from(3u64)) == U256::from(d.digit(2, i) as u64);
            assert!(expect, "2-bit digit {i}");
        }
        for i in 0..64 {
            assert_eq!(
                d.digit(4, i),
                d.digit(2, 2 * i) | (d.digit(2, 2 * i + 1) << 2)
            );
        }
    }
}
