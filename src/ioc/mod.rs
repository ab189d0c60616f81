//! IOC types and their canonical forms, shared by both parties (pure Rust, no FHE).
//!
//! Every IOC (agency side) and every log value (server side) is canonicalised per type and
//! reduced to a 256-bit [`Digest`]: SHA-256 and raw `u256` values are their own digest; every
//! other type is `SHA-256("iocz1:" ‖ tag ‖ 0x00 ‖ canonical bytes)`, with a tag per type (and
//! per IP prefix length, per substring case rule), so values of different types never collide.
//!
//! Non-exact matching is done by expanding each log value into *candidate* digests in the
//! clear ([`SetSpec::candidates`]): label suffixes of a domain, one masked prefix per declared
//! CIDR length, one window per declared substring length. The declared lengths are part of the
//! public query ([`SetSpec::lengths`]).

mod classify;
mod domain;
mod hashes;
mod ip;
mod substring;

use sha2::{Digest as _, Sha256};

use crate::digest::Digest;
use crate::error::{Error, Result};

pub use classify::ValueClass;
pub use domain::PUBLIC_SUFFIX_LIST;
pub use ip::Family;

/// Names a scan's `columns` and an importer's type column accept besides the type names:
/// `ip` covers both IP families, `cmdline` and `command_line` are substrings.
pub const TYPE_ALIASES: [(&str, &[IocType]); 3] = [
    ("ip", &[IocType::Ipv4, IocType::Ipv6]),
    ("cmdline", &[IocType::Substring]),
    ("command_line", &[IocType::Substring]),
];

/// Most distinct lengths (substring window lengths or CIDR prefix lengths) a query may declare.
pub const MAX_DECLARED_LENGTHS: usize = 128;

/// The kinds of indicator iocz matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IocType {
    /// A raw 256-bit value (64 hex digits or 32 bytes), its own digest.
    U256,
    /// SHA-256 file hash, its own digest.
    Sha256,
    /// SHA-1 file hash (40 hex digits).
    Sha1,
    /// MD5 file hash (32 hex digits).
    Md5,
    /// PE import hash (32 hex digits; all zeros means "no imphash" and is never an IOC).
    Imphash,
    /// DNS name (IDNA, lower case); matched exactly or with its subdomains.
    Domain,
    /// IPv4 address or CIDR range.
    Ipv4,
    /// IPv6 address or CIDR range (IPv4-mapped addresses equal their IPv4 form).
    Ipv6,
    /// Fragment contained in a value (SQL `LIKE '%fragment%'`).
    Substring,
}

impl IocType {
    /// Every type, in wire-code order.
    pub const ALL: [IocType; 9] = [
        IocType::U256,
        IocType::Sha256,
        IocType::Sha1,
        IocType::Md5,
        IocType::Imphash,
        IocType::Domain,
        IocType::Ipv4,
        IocType::Ipv6,
        IocType::Substring,
    ];

    /// The user-facing name (`"sha256"`, `"domain"`, ...).
    pub fn name(self) -> &'static str {
        match self {
            IocType::U256 => "u256",
            IocType::Sha256 => "sha256",
            IocType::Sha1 => "sha1",
            IocType::Md5 => "md5",
            IocType::Imphash => "imphash",
            IocType::Domain => "domain",
            IocType::Ipv4 => "ipv4",
            IocType::Ipv6 => "ipv6",
            IocType::Substring => "substring",
        }
    }

    /// Parse a user-facing name.
    pub fn from_name(name: &str) -> Result<IocType> {
        IocType::ALL
            .into_iter()
            .find(|t| t.name() == name)
            .ok_or_else(|| {
                let names: Vec<&str> = IocType::ALL.iter().map(|t| t.name()).collect();
                Error::InvalidInput(format!(
                    "unknown IOC type {name:?}; expected one of {}",
                    names.join(", ")
                ))
            })
    }

    /// Raw length in bytes of a hash type (its hex text has twice as many digits); None for
    /// the other types.
    pub fn hash_bytes(self) -> Option<usize> {
        match self {
            IocType::U256 | IocType::Sha256 => Some(32),
            IocType::Sha1 => Some(20),
            IocType::Md5 | IocType::Imphash => Some(16),
            _ => None,
        }
    }

    /// True for the hex hash types (and raw u256), which may also be given as raw bytes.
    pub fn is_hash(self) -> bool {
        matches!(
            self,
            IocType::U256 | IocType::Sha256 | IocType::Sha1 | IocType::Md5 | IocType::Imphash
        )
    }

    /// Wire code (index in [`IocType::ALL`]).
    pub fn code(self) -> u8 {
        IocType::ALL.iter().position(|t| *t == self).unwrap() as u8
    }

    /// Inverse of [`IocType::code`].
    pub fn from_code(code: u8) -> Result<IocType> {
        IocType::ALL
            .get(code as usize)
            .copied()
            .ok_or_else(|| Error::Format(format!("unknown IOC type code {code}")))
    }
}

/// How domain IOCs match log names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum DomainMatch {
    /// The log name equals the IOC.
    #[default]
    Exact,
    /// The log name is the IOC or one of its subdomains (`a.b.evil.com` matches `evil.com`).
    Subdomain,
}

impl DomainMatch {
    /// Every mode.
    pub const ALL: [DomainMatch; 2] = [DomainMatch::Exact, DomainMatch::Subdomain];

    /// The user-facing name (`"exact"`, `"subdomain"`).
    pub fn name(self) -> &'static str {
        match self {
            DomainMatch::Exact => "exact",
            DomainMatch::Subdomain => "subdomain",
        }
    }

    /// Parse `"exact"` or `"subdomain"`.
    pub fn from_name(name: &str) -> Result<DomainMatch> {
        DomainMatch::ALL
            .into_iter()
            .find(|m| m.name() == name)
            .ok_or_else(|| {
                Error::InvalidInput(format!(
                    "match must be \"exact\" or \"subdomain\", not {name:?}"
                ))
            })
    }
}

/// One canonicalised IOC: its digest, its canonical text (for the agency's manifest) and the
/// length it requires the query to declare (substring length, CIDR prefix length), if any.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CanonicalIoc {
    /// The digest encrypted into the set.
    pub digest: Digest,
    /// Canonical text form (what the agency sees next to its count).
    pub text: String,
    /// Declared length this IOC needs (see [`SetSpec::lengths`]).
    pub length: Option<u16>,
}

impl CanonicalIoc {
    /// A SHA-256 (or raw 256-bit) IOC given as its digest.
    pub fn sha256(digest: Digest) -> CanonicalIoc {
        CanonicalIoc {
            digest,
            text: digest.to_hex(),
            length: None,
        }
    }
}

/// The public description of an IOC set that the server needs to expand log values: the type,
/// the substring case rule and the declared lengths.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetSpec {
    /// IOC type of every member.
    pub ioc_type: IocType,
    /// Substrings only: false folds both sides to lower case.
    pub case_sensitive: bool,
    /// Sorted distinct declared lengths: substring window lengths (characters) or CIDR prefix
    /// lengths (in the IOC family's own terms: 0–32 for IPv4, 0–128 for IPv6). Empty for other
    /// types. May include decoy lengths that no IOC uses (see [`SetSpec::with_lengths`]).
    pub lengths: Vec<u16>,
}

impl SetSpec {
    /// A spec of `ioc_type` with no declared lengths yet.
    pub fn new(ioc_type: IocType, case_sensitive: bool) -> SetSpec {
        SetSpec {
            ioc_type,
            case_sensitive: case_sensitive || ioc_type != IocType::Substring,
            lengths: Vec::new(),
        }
    }

    /// Canonicalise one IOC (agency side). Errors say what is wrong with it.
    pub fn canonical_ioc(&self, text: &str) -> Result<CanonicalIoc> {
        match self.ioc_type {
            t if t.is_hash() => hashes::canonical_ioc(t, text),
            IocType::Domain => domain::canonical_ioc(text),
            IocType::Ipv4 | IocType::Ipv6 => ip::canonical_ioc(self.family(), text),
            _ => substring::canonical_ioc(text, self.case_sensitive),
        }
    }

    /// The address family of an IP set (IPv6 for every other type).
    pub fn family(&self) -> Family {
        if self.ioc_type == IocType::Ipv4 {
            Family::V4
        } else {
            Family::V6
        }
    }

    /// Canonicalise one IOC given as raw bytes (hash types only: the hash's bytes).
    pub fn canonical_ioc_bytes(&self, bytes: &[u8]) -> Result<CanonicalIoc> {
        hashes::canonical_ioc_bytes(self.ioc_type, bytes)
    }

    /// This spec with its declared lengths: those `iocs` need plus `extra` decoys (padding to
    /// hide the real lengths). Checks every length is valid for the type.
    pub fn with_lengths(mut self, iocs: &[CanonicalIoc], extra: &[u16]) -> Result<SetSpec> {
        let mut lengths: Vec<u16> = iocs.iter().filter_map(|i| i.length).collect();
        lengths.extend_from_slice(extra);
        lengths.sort_unstable();
        lengths.dedup();
        self.lengths = lengths;
        self.validate()?;
        Ok(self)
    }

    /// Check the declared lengths fit the type (also run on every set read from outside).
    pub fn validate(&self) -> Result<()> {
        let max = match self.ioc_type {
            IocType::Ipv4 => 32,
            IocType::Ipv6 => 128,
            IocType::Substring => substring::MAX_PATTERN_CHARS as u16,
            _ if self.lengths.is_empty() => return Ok(()),
            other => {
                return Err(Error::InvalidInput(format!(
                    "{} IOCs take no declared lengths",
                    other.name()
                )))
            }
        };
        let min = u16::from(self.ioc_type == IocType::Substring);
        if let Some(bad) = self.lengths.iter().find(|l| **l < min || **l > max) {
            return Err(Error::InvalidInput(format!(
                "declared length {bad} is outside {min}..={max} for {} IOCs",
                self.ioc_type.name()
            )));
        }
        if self.lengths.len() > MAX_DECLARED_LENGTHS {
            return Err(Error::InvalidInput(format!(
                "{} declared lengths; at most {MAX_DECLARED_LENGTHS} are allowed",
                self.lengths.len()
            )));
        }
        if self.lengths.windows(2).any(|w| w[0] >= w[1]) {
            return Err(Error::InvalidInput(
                "declared lengths must be sorted and distinct".into(),
            ));
        }
        Ok(())
    }

    /// Candidate digests of one log value (server side), distinct. A value that is not a valid
    /// instance of the type gives an error for hash types (a wrong column is likely) and no
    /// candidates for domains and IPs (log fields often hold other things; such rows never
    /// match). Empty or whitespace-only values have no candidates (a missing value).
    pub fn candidates(&self, value: &str, mode: DomainMatch) -> Result<Vec<Digest>> {
        if value.trim().is_empty() {
            return Ok(Vec::new());
        }
        Ok(match self.ioc_type {
            t if t.is_hash() => hashes::log_digest(t, value)?.into_iter().collect(),
            IocType::Domain => domain::candidates(value, mode),
            IocType::Ipv4 | IocType::Ipv6 => ip::candidates(self, value),
            _ => substring::candidates(value, self)?,
        })
    }

    /// Candidate digests of one raw-bytes log value (hash types: the hash's bytes).
    pub fn candidates_bytes(&self, bytes: &[u8]) -> Result<Vec<Digest>> {
        Ok(hashes::log_digest_bytes(self.ioc_type, bytes)?
            .into_iter()
            .collect())
    }

    /// True when every log value has at most one candidate (plain equality): rows with a match
    /// are then simply the sum of the per-IOC counts.
    pub fn single_candidate(&self, mode: DomainMatch) -> bool {
        match self.ioc_type {
            IocType::Domain => mode == DomainMatch::Exact,
            IocType::Ipv4 | IocType::Ipv6 => self.lengths.len() <= 1,
            IocType::Substring => false,
            _ => true,
        }
    }
}

/// `SHA-256("iocz1:" ‖ tag ‖ 0x00 ‖ bytes)`: the digest of a canonical value of a tagged type.
pub fn tagged_digest(tag: &[u8], bytes: &[u8]) -> Digest {
    Digest(
        Sha256::new()
            .chain_update(b"iocz1:")
            .chain_update(tag)
            .chain_update([0u8])
            .chain_update(bytes)
            .finalize()
            .into(),
    )
}

#[cfg(test)]
mod tests;
