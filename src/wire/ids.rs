//! The identifiers every iocz object carries: the fingerprint of its key pair and, for IOC
//! sets and their counts, the set id.

use std::fmt;

use crate::error::{Error, Result};

/// Identifier binding results to the IOC set they were computed from.
pub type SetId = [u8; 8];

/// The short fingerprint naming a key pair; every object made with the key carries it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct KeyId(pub [u8; 8]);

impl KeyId {
    /// A fresh random key id.
    pub fn random() -> KeyId {
        KeyId(rand::random())
    }

    /// Parse the 16-hex-digit form.
    pub fn parse(s: &str) -> Result<KeyId> {
        let mut out = [0u8; 8];
        hex::decode_to_slice(s, &mut out)
            .map_err(|_| Error::Format(format!("invalid key fingerprint {s:?}")))?;
        Ok(KeyId(out))
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

/// Parse the 16-hex-digit form of a set id.
pub fn parse_set_id(s: &str) -> Result<SetId> {
    let mut out = [0u8; 8];
    hex::decode_to_slice(s, &mut out)
        .map_err(|_| Error::InvalidInput(format!("invalid set id {s:?}")))?;
    Ok(out)
}
