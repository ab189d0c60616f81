//! Substrings (`LIKE '%fragment%'`): case-sensitive, or case-insensitive by Unicode lower-casing
//! both sides (`str::to_lowercase`) before anything else. Nothing else is normalised (spaces,
//! quotes and slashes are significant). Lengths are counted in characters (Unicode scalar
//! values) of the canonical form; a log value is expanded into every window of every declared
//! length.

use std::collections::HashSet;

use super::{tagged_digest, CanonicalIoc, SetSpec};
use crate::digest::Digest;
use crate::error::{Error, Result};

/// Longest substring IOC, in characters.
pub const MAX_PATTERN_CHARS: usize = 1024;
/// Longest log value expanded into windows (the Windows command-line limit); longer values are
/// refused rather than silently truncated.
pub const MAX_VALUE_CHARS: usize = 32_768;

fn canonicalise(text: &str, case_sensitive: bool) -> String {
    if case_sensitive {
        text.to_string()
    } else {
        text.to_lowercase()
    }
}

fn tag(case_sensitive: bool) -> &'static [u8] {
    if case_sensitive {
        b"substring/cs"
    } else {
        b"substring/ci"
    }
}

/// Canonical IOC; its declared length is its length in characters.
pub fn canonical_ioc(text: &str, case_sensitive: bool) -> Result<CanonicalIoc> {
    let canonical = canonicalise(text, case_sensitive);
    let chars = canonical.chars().count();
    if chars == 0 {
        return Err(Error::InvalidInput(
            "an empty substring matches everything; refused".into(),
        ));
    }
    if chars > MAX_PATTERN_CHARS {
        return Err(Error::InvalidInput(format!(
            "substring IOC of {chars} characters; at most {MAX_PATTERN_CHARS} are allowed"
        )));
    }
    Ok(CanonicalIoc {
        digest: tagged_digest(tag(case_sensitive), canonical.as_bytes()),
        text: canonical,
        length: Some(chars as u16),
    })
}

/// Every distinct window of every declared length of a log value.
pub fn candidates(value: &str, spec: &SetSpec) -> Result<Vec<Digest>> {
    let canonical = canonicalise(value, spec.case_sensitive);
    // Byte offsets of every character boundary, end included.
    let bounds: Vec<usize> = canonical
        .char_indices()
        .map(|(i, _)| i)
        .chain([canonical.len()])
        .collect();
    let chars = bounds.len() - 1;
    if chars > MAX_VALUE_CHARS {
        return Err(Error::InvalidInput(format!(
            "value of {chars} characters; substring matching expands at most \
             {MAX_VALUE_CHARS} (filter or truncate longer values first)"
        )));
    }
    let tag = tag(spec.case_sensitive);
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for &len in &spec.lengths {
        let len = usize::from(len);
        for start in 0..(chars + 1).saturating_sub(len) {
            let window = &canonical[bounds[start]..bounds[start + len]];
            if seen.insert(window) {
                out.push(tagged_digest(tag, window.as_bytes()));
            }
        }
    }
    Ok(out)
}
