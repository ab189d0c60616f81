//! Agency side: IOCs as given (text, or raw bytes for hash types) → canonical forms → an
//! encrypted, cuckoo-hashed set and its manifest.

use crate::error::{Error, Result};
use crate::ioc::{CanonicalIoc, IocType, SetSpec};
use crate::keys::ClientKey;
use crate::lookup::query::LookupOptions;
use crate::set::{EncryptedSet, Manifest};

/// Most IOC sets one query holds (checked when a query bundle is read).
pub const MAX_SETS: usize = 16;

/// One IOC as a caller gives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IocInput {
    /// Text in any accepted form of the type (hex, a domain, a CIDR range, a fragment).
    Text(String),
    /// Raw bytes of a hash.
    Bytes(Vec<u8>),
}

/// What to build: the type and its public options.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetOptions {
    /// IOC type of every member.
    pub ioc_type: IocType,
    /// Substrings only: match case-sensitively.
    pub case_sensitive: bool,
    /// Decoy declared lengths (substring or CIDR prefix lengths no IOC needs).
    pub extra_lengths: Vec<u16>,
    /// Size the table for at least this many IOCs (hides the real count).
    pub pad_to: usize,
    /// Cuckoo hash functions: 2 or 3.
    pub hashes: u8,
    /// Also build a lookup part (kernel `auto` or `lookup`), or not (`scan`).
    pub lookup: Option<LookupOptions>,
}

/// An encrypted set as the agency holds it after [`encrypt_iocs`].
pub struct EncryptedIocs {
    /// The public part (for the company).
    pub set: EncryptedSet,
    /// Slot → IOC (secret: stays with the agency).
    pub manifest: Manifest,
    /// The canonical text of each input IOC, in input order (duplicates share one text): what
    /// the agency keys its labels by, so that it never canonicalises an IOC twice.
    pub canonical: Vec<String>,
}

/// Canonicalise every IOC (errors name its position), then cuckoo-hash and encrypt
/// the set under `key` (duplicates after canonicalisation share a slot).
pub fn encrypt_iocs(
    key: &ClientKey,
    iocs: &[IocInput],
    options: &SetOptions,
) -> Result<EncryptedIocs> {
    let spec = SetSpec::new(options.ioc_type, options.case_sensitive);
    let canonical = iocs
        .iter()
        .enumerate()
        .map(|(i, ioc)| {
            match ioc {
                IocInput::Text(t) => spec.canonical_ioc(t),
                IocInput::Bytes(b) => spec.canonical_ioc_bytes(b),
            }
            .map_err(|e| Error::InvalidInput(format!("IOC {i}: {e}")))
        })
        .collect::<Result<Vec<CanonicalIoc>>>()?;
    let spec = spec.with_lengths(&canonical, &options.extra_lengths)?;
    let (set, mut manifest) =
        EncryptedSet::encrypt(key, spec, &canonical, options.hashes, options.pad_to)?;
    let set = match options.lookup {
        Some(lookup) => set.with_lookup(key, &mut manifest, lookup, options.pad_to)?,
        None => set,
    };
    let canonical = canonical.into_iter().map(|c| c.text).collect();
    Ok(EncryptedIocs {
        set,
        manifest,
        canonical,
    })
}

/// The canonical text of each value as an IOC of `ioc_type` (what [`encrypt_iocs`] would
/// store), or why it is refused; one result per value, never failing as a whole (importers
/// report bad IOCs one by one).
pub fn canonical_texts(
    values: &[String],
    ioc_type: IocType,
    case_sensitive: bool,
) -> Vec<Result<String>> {
    let spec = SetSpec::new(ioc_type, case_sensitive);
    values
        .iter()
        .map(|v| spec.canonical_ioc(v).map(|c| c.text))
        .collect()
}
