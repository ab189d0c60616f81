//! Whether a log value is a value of a set's type, with the matcher's own parsers: the
//! data-quality figures of a scanned column. Empty or whitespace-only values are missing (like
//! nulls); hash types need the exact hex length (the all-zero imphash, "no imphash", is of the
//! type and never matches); domains need a valid name of at least two labels that is not an IP
//! address; IP sets need one address (brackets and zones allowed; an IPv6 set also takes IPv4);
//! substrings take any text.

use std::net::IpAddr;

use super::{domain, hashes, ip, IocType, SetSpec};

/// What a log value is to a set of one type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueClass {
    /// Empty or whitespace-only: never matches, counted with the nulls.
    Missing,
    /// A value of the set's type.
    OfType,
    /// Not of the set's type: hash sets skip it (a wrong column is likely), other types keep it
    /// (it has no candidates).
    NotOfType,
}

impl ValueClass {
    fn of(ok: bool) -> ValueClass {
        if ok {
            ValueClass::OfType
        } else {
            ValueClass::NotOfType
        }
    }
}

impl SetSpec {
    /// The class of one text log value.
    pub fn classify(&self, value: &str) -> ValueClass {
        if value.trim().is_empty() {
            return ValueClass::Missing;
        }
        ValueClass::of(match self.ioc_type {
            t if t.is_hash() => hashes::log_digest(t, value).is_ok(),
            IocType::Domain => domain::canonicalise(value)
                .is_ok_and(|name| name.contains('.') && name.parse::<IpAddr>().is_err()),
            IocType::Ipv4 | IocType::Ipv6 => ip::is_of_family(self.family(), value),
            _ => true,
        })
    }

    /// The class of one raw-bytes log value (hash sets: the hash's bytes).
    pub fn classify_bytes(&self, bytes: &[u8]) -> ValueClass {
        ValueClass::of(
            self.ioc_type.is_hash() && hashes::log_digest_bytes(self.ioc_type, bytes).is_ok(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_follow_the_matcher() {
        let class = |t: IocType, v: &str| SetSpec::new(t, false).classify(v);
        assert_eq!(class(IocType::Md5, "  "), ValueClass::Missing);
        assert_eq!(class(IocType::Md5, "N/A"), ValueClass::NotOfType);
        assert_eq!(
            class(IocType::Imphash, &"0".repeat(32)),
            ValueClass::OfType,
            "no imphash"
        );
        assert_eq!(class(IocType::Md5, &"AB".repeat(16)), ValueClass::OfType);
        assert_eq!(class(IocType::Domain, "evil.com."), ValueClass::OfType);
        assert_eq!(class(IocType::Domain, "localhost"), ValueClass::NotOfType);
        assert_eq!(class(IocType::Domain, "10.0.0.1"), ValueClass::NotOfType);
        assert_eq!(class(IocType::Ipv4, "[::ffff:1.2.3.4]"), ValueClass::OfType);
        assert_eq!(class(IocType::Ipv4, "fe80::1%eth0"), ValueClass::NotOfType);
        assert_eq!(class(IocType::Ipv6, "fe80::1%eth0"), ValueClass::OfType);
        assert_eq!(class(IocType::Ipv6, "10.0.0.0/8"), ValueClass::NotOfType);
        assert_eq!(class(IocType::Substring, "anything"), ValueClass::OfType);
        let md5 = SetSpec::new(IocType::Md5, false);
        assert_eq!(md5.classify_bytes(&[0; 16]), ValueClass::OfType);
        assert_eq!(md5.classify_bytes(&[0; 15]), ValueClass::NotOfType);
    }
}
