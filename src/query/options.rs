//! How comparisons are configured: bits compared and selector digit width.

use crate::error::{Error, Result};
use crate::kernels::selectors::DigitBits;
use crate::query::kernel::Kernel;

/// Lowest digest bits a comparison may cover: 256 is exact, 128 and 64 trade a false-match
/// probability of 2^-bits per comparison for 2× / 4× fewer bootstraps.
pub const COMPARE_BITS: [usize; 3] = [64, 128, 256];

/// Comparison settings shared by every matching entry point.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MatchOptions {
    /// Lowest digest bits compared (one of [`COMPARE_BITS`]).
    pub bits: usize,
    /// Selector digit width, or None for the cheapest for the work at hand.
    pub digits: Option<DigitBits>,
    /// The kernel for per-IOC counts, or None to choose by predicted cost.
    pub kernel: Option<Kernel>,
}

impl Default for MatchOptions {
    fn default() -> Self {
        MatchOptions {
            bits: 256,
            digits: None,
            kernel: None,
        }
    }
}

impl MatchOptions {
    /// From the caller's form: `bits` 64, 128 or 256; `digit_bits` 2, 4 or 0 (cheapest).
    pub fn new(bits: usize, digit_bits: usize) -> Result<MatchOptions> {
        if !COMPARE_BITS.contains(&bits) {
            return Err(Error::InvalidInput(format!(
                "bits must be 64, 128 or 256, not {bits}"
            )));
        }
        let digits = match digit_bits {
            0 => None,
            2 => Some(DigitBits::Two),
            4 => Some(DigitBits::Four),
            n => {
                return Err(Error::InvalidInput(format!(
                    "digit_bits must be 2 or 4, not {n}"
                )))
            }
        };
        Ok(MatchOptions {
            bits,
            digits,
            kernel: None,
        })
    }

    /// With kernel `name`: `auto` (choose by predicted cost), `scan` or `lookup`.
    pub fn with_kernel(self, name: &str) -> Result<MatchOptions> {
        let kernel = match name {
            "auto" | "" => None,
            other => Some(Kernel::from_name(other)?),
        };
        Ok(MatchOptions { kernel, ..self })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_validated() {
        assert_eq!(MatchOptions::new(256, 0).unwrap(), MatchOptions::default());
        assert_eq!(
            MatchOptions::new(64, 4).unwrap().digits,
            Some(DigitBits::Four)
        );
        assert!(MatchOptions::new(32, 0).is_err());
        assert!(MatchOptions::new(256, 3).is_err());
    }
}
