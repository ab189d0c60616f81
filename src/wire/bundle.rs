//! The bundle container: the one file format exchanged between the parties (query, result) and
//! kept locally (scan checkpoints).
//!
//! ```text
//! "IOCZ-BUNDLE\n"  magic (12 bytes)
//! version u16le    FORMAT_VERSION
//! kind u8          1 query, 2 result, 3 checkpoint
//! meta_len u32le, meta (UTF-8 JSON object, ≤ MAX_META_BYTES)
//! n u32le, n × section: name_len u8, name ([a-z0-9._/-]+), len u64le, sha256[32], bytes
//! sha256[32]       of everything before it: the bundle's fingerprint
//! ```
//! Reading checks everything structural (magic, version, kind, limits, names, section digests,
//! the trailing digest) before any section is handed out; what a section holds (keys, sets,
//! counts) is checked by its own reader against the pinned parameters.

use sha2::{Digest as _, Sha256};

use crate::error::{Error, Result};
use crate::wire::reader::Reader;

/// First bytes of every bundle.
pub const MAGIC: &[u8; 12] = b"IOCZ-BUNDLE\n";
/// The bundle format this build writes and reads.
pub const FORMAT_VERSION: u16 = 1;
/// Largest metadata block.
pub const MAX_META_BYTES: usize = 1 << 20;
/// Most sections in one bundle.
pub const MAX_SECTIONS: usize = 1 << 16;
/// Largest bundle file read (a server key ≤ 1 GiB plus sets and counts).
pub const MAX_BUNDLE_BYTES: u64 = 3 << 30;

/// What a bundle is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BundleKind {
    /// Agency → company: server key (or its fingerprint) and encrypted IOC sets.
    Query,
    /// Company → agency: encrypted counts and scan metadata.
    Result,
    /// Company-local partial counts of an interrupted scan.
    Checkpoint,
}

impl BundleKind {
    fn code(self) -> u8 {
        match self {
            BundleKind::Query => 1,
            BundleKind::Result => 2,
            BundleKind::Checkpoint => 3,
        }
    }

    fn from_code(code: u8) -> Option<BundleKind> {
        [
            BundleKind::Query,
            BundleKind::Result,
            BundleKind::Checkpoint,
        ]
        .into_iter()
        .find(|k| k.code() == code)
    }

    /// Name used in messages and in Python.
    pub fn name(self) -> &'static str {
        match self {
            BundleKind::Query => "query",
            BundleKind::Result => "result",
            BundleKind::Checkpoint => "checkpoint",
        }
    }

    /// Parse a name from [`BundleKind::name`].
    pub fn parse(name: &str) -> Result<BundleKind> {
        [
            BundleKind::Query,
            BundleKind::Result,
            BundleKind::Checkpoint,
        ]
        .into_iter()
        .find(|k| k.name() == name)
        .ok_or_else(|| Error::InvalidInput(format!("unknown bundle kind {name:?}")))
    }
}

/// A decoded bundle: metadata JSON text, named sections, fingerprint (hex of the trailing digest).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bundle {
    /// What the bundle is for.
    pub kind: BundleKind,
    /// UTF-8 JSON metadata (an object).
    pub meta: String,
    /// Named sections, in file order.
    pub sections: Vec<(String, Vec<u8>)>,
}

/// Section names: `/`-separated segments of `[a-z0-9._-]`, none empty, `.` or `..`.
fn valid_name(name: &str) -> bool {
    name.len() <= 255
        && name.split('/').all(|segment| {
            !segment.is_empty()
                && segment != "."
                && segment != ".."
                && segment
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
        })
}

impl Bundle {
    /// Encode; returns the bytes and the fingerprint.
    pub fn encode(&self) -> Result<(Vec<u8>, String)> {
        check_meta(&self.meta)?;
        if self.sections.len() > MAX_SECTIONS {
            return Err(Error::InvalidInput(format!(
                "a bundle holds at most {MAX_SECTIONS} sections"
            )));
        }
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.push(self.kind.code());
        out.extend_from_slice(&(self.meta.len() as u32).to_le_bytes());
        out.extend_from_slice(self.meta.as_bytes());
        out.extend_from_slice(&(self.sections.len() as u32).to_le_bytes());
        for (name, data) in &self.sections {
            if !valid_name(name) {
                return Err(Error::InvalidInput(format!(
                    "invalid bundle section name {name:?}"
                )));
            }
            out.push(name.len() as u8);
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(&(data.len() as u64).to_le_bytes());
            out.extend_from_slice(&Sha256::digest(data));
            out.extend_from_slice(data);
        }
        let digest = Sha256::digest(&out);
        out.extend_from_slice(&digest);
        Ok((out, hex::encode(&digest[..16])))
    }

    /// The kind of the bundle `bytes` starts (its first bytes are enough), or None when they
    /// are not the start of a bundle this iocz reads.
    pub fn kind_of(bytes: &[u8]) -> Option<BundleKind> {
        let rest = bytes.strip_prefix(MAGIC.as_slice())?;
        let mut head = Reader::new(rest, "bundle");
        (head.u16().ok()? == FORMAT_VERSION).then_some(())?;
        BundleKind::from_code(head.u8().ok()?)
    }

    /// Decode and verify `bytes` as a bundle of kind `expected`; returns it with its fingerprint.
    pub fn decode(bytes: &[u8], expected: BundleKind) -> Result<(Bundle, String)> {
        if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
            return Err(Error::Format("not an iocz bundle (bad magic bytes)".into()));
        }
        let mut head = Reader::new(&bytes[MAGIC.len()..], "bundle");
        let version = head.u16()?;
        if version != FORMAT_VERSION {
            return Err(Error::Format(format!(
                "bundle format version {version} is not supported (this iocz reads version \
                 {FORMAT_VERSION}); use the iocz version that wrote it"
            )));
        }
        let code = head.u8()?;
        let kind = BundleKind::from_code(code)
            .ok_or_else(|| Error::Format(format!("unknown bundle kind code {code}")))?;
        if kind != expected {
            return Err(Error::Format(format!(
                "this is a {} bundle, expected a {} bundle",
                kind.name(),
                expected.name()
            )));
        }
        let start = MAGIC.len() + head.position();
        let Some(body_len) = bytes.len().checked_sub(32).filter(|n| *n >= start) else {
            return Err(Error::Format("bundle is truncated".into()));
        };
        let (body, trailer) = bytes.split_at(body_len);
        let digest = Sha256::digest(body);
        if digest.as_slice() != trailer {
            return Err(Error::Format(
                "bundle is corrupted or truncated (checksum mismatch)".into(),
            ));
        }
        let mut r = Reader::new(&body[start..], "bundle");
        let meta_len = r.u32()? as usize;
        if meta_len > MAX_META_BYTES {
            return Err(Error::Format(format!(
                "bundle metadata is {meta_len} bytes, over the {MAX_META_BYTES}-byte limit"
            )));
        }
        let meta = std::str::from_utf8(r.take(meta_len)?)
            .map_err(|_| Error::Format("bundle metadata is not UTF-8".into()))?
            .to_owned();
        check_meta(&meta).map_err(|e| Error::Format(e.to_string()))?;
        let n = r.u32()? as usize;
        if n > MAX_SECTIONS {
            return Err(Error::Format(format!(
                "bundle declares {n} sections, over the {MAX_SECTIONS} limit"
            )));
        }
        let mut sections = Vec::with_capacity(n.min(1024));
        for _ in 0..n {
            let name_len = r.u8()? as usize;
            let name = std::str::from_utf8(r.take(name_len)?)
                .ok()
                .filter(|n| valid_name(n))
                .ok_or_else(|| Error::Format("bundle holds an invalid section name".into()))?
                .to_owned();
            let len = usize::try_from(r.u64()?)
                .map_err(|_| Error::Format("bundle is truncated".into()))?;
            let sum: [u8; 32] = r.array()?;
            let data = r.take(len)?;
            if Sha256::digest(data).as_slice() != sum {
                return Err(Error::Format(format!(
                    "bundle section {name:?} is corrupted (checksum mismatch)"
                )));
            }
            if sections.iter().any(|(n, _)| *n == name) {
                return Err(Error::Format(format!(
                    "bundle holds section {name:?} twice"
                )));
            }
            sections.push((name, data.to_vec()));
        }
        r.finish()
            .map_err(|_| Error::Format("bundle has trailing bytes after its sections".into()))?;
        let bundle = Bundle {
            kind,
            meta,
            sections,
        };
        Ok((bundle, hex::encode(&digest[..16])))
    }
}

/// The metadata must be a JSON object within the size limit.
fn check_meta(meta: &str) -> Result<()> {
    if meta.len() > MAX_META_BYTES {
        return Err(Error::InvalidInput(format!(
            "bundle metadata is over the {MAX_META_BYTES}-byte limit"
        )));
    }
    match serde_json::from_str::<serde_json::Value>(meta) {
        Ok(serde_json::Value::Object(_)) => Ok(()),
        _ => Err(Error::InvalidInput(
            "bundle metadata is not a JSON object".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Bundle {
        Bundle {
            kind: BundleKind::Query,
            meta: r#"{"a": 1}"#.into(),
            sections: vec![
                ("server-key".into(), vec![1, 2, 3]),
                ("set/0".into(), vec![]),
            ],
        }
    }

    #[test]
    fn round_trip() {
        let (bytes, fp) = sample().encode().unwrap();
        let (back, fp2) = Bundle::decode(&bytes, BundleKind::Query).unwrap();
        assert_eq!(back, sample());
        assert_eq!(fp, fp2);
        assert_eq!(fp.len(), 32);
    }

    #[test]
    fn every_truncation_and_bit_flip_is_rejected() {
        let (bytes, _) = sample().encode().unwrap();
        for cut in 0..bytes.len() {
            assert!(Bundle::decode(&bytes[..cut], BundleKind::Query).is_err());
        }
        for i in 0..bytes.len() {
            for bit in 0..8 {
                let mut b = bytes.clone();
                b[i] ^= 1 << bit;
                assert!(Bundle::decode(&b, BundleKind::Query).is_err(), "{i}/{bit}");
            }
        }
        let mut extra = bytes.clone();
        extra.push(0);
        assert!(Bundle::decode(&extra, BundleKind::Query).is_err());
    }

    #[test]
    fn kind_version_and_meta_are_checked() {
        let (bytes, _) = sample().encode().unwrap();
        let e = Bundle::decode(&bytes, BundleKind::Result).unwrap_err();
        assert!(e.to_string().contains("query bundle"), "{e}");
        let mut v2 = bytes.clone();
        v2[12] = 2;
        let e = Bundle::decode(&v2, BundleKind::Query).unwrap_err();
        assert!(e.to_string().contains("version 2"), "{e}");
        let mut bad = sample();
        bad.meta = "[1]".into();
        assert!(bad.encode().is_err());
        for name in ["Bad Name", "", "../x", "a//b", "a/./b", "/a"] {
            let mut bad = sample();
            bad.sections[0].0 = name.into();
            assert!(bad.encode().is_err(), "{name:?}");
        }
    }
}
