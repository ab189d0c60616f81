//! IP addresses and CIDR ranges (std's parsers). Every address is held as 16 bytes: IPv4
//! `a.b.c.d` as the IPv4-mapped `::ffff:a.b.c.d`, so an IPv4 address and its mapped IPv6 form
//! are the same value and `/n` on IPv4 is `/(96+n)`. A range's digest tags its prefix length
//! and covers the masked address; host bits set in a CIDR IOC are an error. Log values may be
//! bracketed (`[::1]`) or carry a zone (`fe80::1%eth0`, zone dropped); a log value that is not
//! an address has no candidates.

use std::net::{IpAddr, Ipv6Addr};

use super::{tagged_digest, CanonicalIoc, SetSpec};
use crate::digest::Digest;
use crate::error::{Error, Result};

/// Offset of IPv4 prefix lengths inside the 128-bit mapped space.
const V4_OFFSET: u16 = 96;

/// Address family of an IP IOC set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// IPv4: prefix lengths 0–32.
    V4,
    /// IPv6: prefix lengths 0–128.
    V6,
}

impl Family {
    fn offset(self) -> u16 {
        match self {
            Family::V4 => V4_OFFSET,
            Family::V6 => 0,
        }
    }
}

/// Parse one address (log side tolerant of brackets and zones) into 16 bytes.
fn parse_addr(text: &str) -> Option<IpAddr> {
    let t = text.trim();
    let t = t
        .strip_prefix('[')
        .and_then(|x| x.strip_suffix(']'))
        .unwrap_or(t);
    let t = t.split_once('%').map_or(t, |(addr, _zone)| addr);
    t.parse().ok()
}

/// Whether a log value is one address a set of `family` matches: IPv4 (or IPv4-mapped IPv6)
/// for an IPv4 set, any address for an IPv6 set.
pub fn is_of_family(family: Family, value: &str) -> bool {
    parse_addr(value).is_some_and(|a| {
        family == Family::V6 || Ipv6Addr::from(mapped(a)).to_ipv4_mapped().is_some()
    })
}

fn mapped(addr: IpAddr) -> [u8; 16] {
    match addr {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
        IpAddr::V6(v6) => v6.octets(),
    }
}

fn mask(bytes: [u8; 16], prefix: u16) -> [u8; 16] {
    let bits = u128::from_be_bytes(bytes);
    let keep = if prefix == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(prefix))
    };
    (bits & keep).to_be_bytes()
}

/// Digest of the range `bytes/prefix` (prefix in the 128-bit space, bytes already masked).
fn digest(bytes: [u8; 16], prefix: u16) -> Digest {
    let mut tag = b"ip/".to_vec();
    tag.extend_from_slice(prefix.to_string().as_bytes());
    tagged_digest(&tag, &bytes)
}

/// Canonical IOC: an address (a full-length range) or a CIDR range. IPv4 ranges (and
/// IPv4-mapped IPv6 ranges of at least /96) are IPv4 ranges; an ipv4 set takes only those. The
/// declared length is the prefix length in the set family's terms.
pub fn canonical_ioc(family: Family, text: &str) -> Result<CanonicalIoc> {
    let trimmed = text.trim();
    let bad = |why: &str| Error::InvalidInput(format!("invalid {family:?} IOC {trimmed:?}: {why}"));
    let (addr_text, prefix_text) = match trimmed.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (trimmed, None),
    };
    let addr: IpAddr = addr_text
        .parse()
        .map_err(|_| bad("not an IP address or CIDR range"))?;
    // Prefix lengths are written in the address's own terms; map them to the 128-bit space.
    let (own_max, offset) = match addr {
        IpAddr::V4(_) => (32u16, V4_OFFSET),
        IpAddr::V6(_) => (128u16, 0),
    };
    let prefix = match prefix_text {
        None => own_max,
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|p| *p <= own_max)
            .ok_or_else(|| bad(&format!("prefix length must be 0..={own_max}")))?,
    } + offset;
    let bytes = mapped(addr);
    if mask(bytes, prefix) != bytes {
        return Err(bad("host bits are set below the prefix length"));
    }
    let v4 = Ipv6Addr::from(bytes)
        .to_ipv4_mapped()
        .filter(|_| prefix >= V4_OFFSET);
    let text = match (v4, prefix) {
        (Some(v4), 128) => v4.to_string(),
        (Some(v4), p) => format!("{v4}/{}", p - V4_OFFSET),
        (None, 128) => Ipv6Addr::from(bytes).to_string(),
        (None, p) => format!("{}/{p}", Ipv6Addr::from(bytes)),
    };
    if family == Family::V4 && v4.is_none() {
        return Err(bad("not an IPv4 address or range (use type=\"ipv6\")"));
    }
    Ok(CanonicalIoc {
        digest: digest(bytes, prefix),
        text,
        length: Some(prefix - family.offset()),
    })
}

/// Candidates of a log address: its masked prefix for every declared length.
pub fn candidates(spec: &SetSpec, value: &str) -> Vec<Digest> {
    let Some(addr) = parse_addr(value) else {
        return Vec::new();
    };
    let offset = spec.family().offset();
    let bytes = mapped(addr);
    spec.lengths
        .iter()
        .map(|l| {
            let prefix = l + offset;
            digest(mask(bytes, prefix), prefix)
        })
        .collect()
}
