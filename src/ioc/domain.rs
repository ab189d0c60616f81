//! Domain names: surrounding whitespace and one trailing dot removed, IDNA (UTS #46) mapped to
//! lower-case ASCII with punycode labels (`Bücher.example` → `xn--bcher-kva.example`), then
//! checked: 1–63 characters per label, at most 253 in all, only `a-z 0-9 - _` (underscores
//! appear in service names such as `_ldap._tcp.dc._msdcs.corp`). Wildcards are refused: use
//! subdomain matching instead.

use super::{tagged_digest, CanonicalIoc, DomainMatch};
use crate::digest::Digest;
use crate::error::{Error, Result};

/// Longest name in characters (RFC 1035, without the root dot).
const MAX_NAME: usize = 253;
/// Longest label.
const MAX_LABEL: usize = 63;

/// The canonical ASCII form of a domain name.
pub fn canonicalise(text: &str) -> Result<String> {
    let trimmed = text.trim();
    let name = trimmed.strip_suffix('.').unwrap_or(trimmed);
    let bad = |why: &str| Error::InvalidInput(format!("invalid domain {trimmed:?}: {why}"));
    if name.is_empty() {
        return Err(bad("empty name"));
    }
    if name.starts_with('.') {
        return Err(bad(
            "a leading dot is not a name; give the domain and match=\"subdomain\"",
        ));
    }
    if name.contains('*') {
        return Err(bad(
            "wildcards are not names; give the parent domain and match=\"subdomain\"",
        ));
    }
    let ascii = idna::domain_to_ascii(name).map_err(|_| bad("not a valid IDNA name"))?;
    if ascii.len() > MAX_NAME {
        return Err(bad("longer than 253 characters"));
    }
    for label in ascii.split('.') {
        if label.is_empty() {
            return Err(bad("empty label"));
        }
        if label.len() > MAX_LABEL {
            return Err(bad("label longer than 63 characters"));
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        {
            return Err(bad("labels may hold only letters, digits, '-' and '_'"));
        }
    }
    Ok(ascii)
}

fn digest(name: &str) -> Digest {
    tagged_digest(b"domain", name.as_bytes())
}

/// Canonical IOC.
pub fn canonical_ioc(text: &str) -> Result<CanonicalIoc> {
    let name = canonicalise(text)?;
    Ok(CanonicalIoc {
        digest: digest(&name),
        text: name,
        length: None,
    })
}

/// Candidates of a log name: the name itself, and with subdomain matching every label suffix
/// longer than the name's public suffix (Public Suffix List, `psl` crate): `a.b.evil.co.uk` →
/// `a.b.evil.co.uk`, `b.evil.co.uk`, `evil.co.uk`, never `co.uk` or `uk`. The company enforces
/// this in the clear (it cannot see the IOCs): an IOC `com` with subdomain matching counts
/// nothing, so one IOC cannot count every name under a public suffix. Invalid names: none.
pub fn candidates(value: &str, mode: DomainMatch) -> Vec<Digest> {
    let Ok(name) = canonicalise(value) else {
        return Vec::new();
    };
    let mut out = vec![digest(&name)];
    if mode == DomainMatch::Subdomain {
        let public = psl::suffix_str(&name).map_or(0, str::len);
        out.extend(
            name.match_indices('.')
                .map(|(i, _)| &name[i + 1..])
                .filter(|s| s.len() > public)
                .map(digest),
        );
    }
    out
}

/// The version of the Public Suffix List subdomain matching uses (the `psl` crate's).
pub const PUBLIC_SUFFIX_LIST: &str = "psl 2.1.247";
