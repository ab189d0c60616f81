//! One bounds-checked reader for every binary layout read from outside (sets, per-IOC counts,
//! bundles): each read either returns the bytes asked for or a [`Error::Format`] naming the
//! object, never a panic or an out-of-bounds slice.

use crate::error::{Error, Result};

/// A cursor over untrusted bytes.
pub struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
    what: &'a str,
}

impl<'a> Reader<'a> {
    /// Read `bytes`, naming them `what` in errors ("bundle", "encrypted IOC set (key …)").
    pub fn new(bytes: &'a [u8], what: &'a str) -> Reader<'a> {
        Reader { bytes, at: 0, what }
    }

    /// The error for a layout problem: "`what` is corrupted: `why`".
    pub fn corrupted(&self, why: &str) -> Error {
        Error::Format(format!("{} is corrupted: {why}", self.what))
    }

    fn truncated(&self) -> Error {
        Error::Format(format!("{} is truncated", self.what))
    }

    /// The next `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.at.checked_add(n).ok_or_else(|| self.truncated())?;
        let out = self
            .bytes
            .get(self.at..end)
            .ok_or_else(|| self.truncated())?;
        self.at = end;
        Ok(out)
    }

    /// The next `N` bytes as an array.
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        Ok(self.take(N)?.try_into().expect("take returned N bytes"))
    }

    /// One byte.
    pub fn u8(&mut self) -> Result<u8> {
        Ok(self.array::<1>()?[0])
    }

    /// A little-endian u16.
    pub fn u16(&mut self) -> Result<u16> {
        self.array().map(u16::from_le_bytes)
    }

    /// A little-endian u32.
    pub fn u32(&mut self) -> Result<u32> {
        self.array().map(u32::from_le_bytes)
    }

    /// A little-endian u64.
    pub fn u64(&mut self) -> Result<u64> {
        self.array().map(u64::from_le_bytes)
    }

    /// A u32 length prefix followed by that many bytes, refused above `limit`.
    pub fn prefixed(&mut self, limit: u64) -> Result<&'a [u8]> {
        let len = u64::from(self.u32()?);
        if len > limit {
            return Err(self.corrupted("an item is larger than its limit"));
        }
        self.take(len as usize)
    }

    /// Bytes read so far.
    pub fn position(&self) -> usize {
        self.at
    }

    /// Fail unless every byte was read.
    pub fn finish(self) -> Result<()> {
        if self.at == self.bytes.len() {
            Ok(())
        } else {
            Err(self.corrupted("trailing bytes"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_bounds_checked() {
        let mut r = Reader::new(&[1, 2, 0, 3, 0, 0, 0, 9, 9, 9, 7], "sample");
        assert_eq!(r.u8().unwrap(), 1);
        assert_eq!(r.u16().unwrap(), 2);
        assert_eq!(r.prefixed(8).unwrap(), [9, 9, 9]);
        assert!(r
            .take(2)
            .unwrap_err()
            .to_string()
            .contains("sample is truncated"));
        assert!(r.take(usize::MAX).is_err());
        assert_eq!(r.position(), 10);
        assert!(r.finish().unwrap_err().to_string().contains("trailing"));
        let mut big = Reader::new(&[5, 0, 0, 0, 1, 2, 3, 4, 5], "x");
        assert!(big.prefixed(4).is_err());
    }
}
