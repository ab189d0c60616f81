//! Canonicalisation edge cases for every IOC type.

use super::*;

fn spec(t: IocType) -> SetSpec {
    SetSpec::new(t, true)
}

fn ioc(t: IocType, text: &str) -> CanonicalIoc {
    spec(t).canonical_ioc(text).unwrap()
}

fn err(t: IocType, text: &str) -> String {
    spec(t).canonical_ioc(text).unwrap_err().to_string()
}

/// A spec holding `iocs`, with their declared lengths.
fn set(t: IocType, case_sensitive: bool, iocs: &[&str]) -> (SetSpec, Vec<CanonicalIoc>) {
    let s = SetSpec::new(t, case_sensitive);
    let c: Vec<CanonicalIoc> = iocs.iter().map(|i| s.canonical_ioc(i).unwrap()).collect();
    (s.with_lengths(&c, &[]).unwrap(), c)
}

/// Whether log `value` produces the digest of `ioc`.
fn hits(spec: &SetSpec, ioc: &CanonicalIoc, value: &str, mode: DomainMatch) -> bool {
    spec.candidates(value, mode).unwrap().contains(&ioc.digest)
}

#[test]
fn type_names_and_codes_round_trip() {
    for t in IocType::ALL {
        assert_eq!(IocType::from_name(t.name()).unwrap(), t);
        assert_eq!(IocType::from_code(t.code()).unwrap(), t);
    }
    assert!(IocType::from_name("SHA256").is_err());
    assert!(IocType::from_code(9).is_err());
}

#[test]
fn hashes_ignore_case_and_whitespace_and_check_length() {
    let a = ioc(IocType::Md5, " D41D8CD98F00B204E9800998ECF8427E\n");
    assert_eq!(a.text, "d41d8cd98f00b204e9800998ecf8427e");
    assert_eq!(
        a.digest,
        ioc(IocType::Md5, "d41d8cd98f00b204e9800998ecf8427e").digest
    );
    assert!(err(IocType::Md5, "d41d8cd98f00b204e9800998ecf8427").contains("32 hex digits"));
    assert!(err(IocType::Sha1, &"g".repeat(40)).contains("non-hex"));
    // SHA-256 is its own digest; the others are tagged, so equal bytes never collide.
    let sha = "027cc450ef5f8c5f653329641ec1fed91f694e0d229928963b30f6b0d7d3a745";
    assert_eq!(ioc(IocType::Sha256, sha).digest.to_hex(), sha);
    let hex16 = "00112233445566778899aabbccddeeff";
    assert_ne!(
        ioc(IocType::Md5, hex16).digest,
        ioc(IocType::Imphash, hex16).digest
    );
}

#[test]
fn all_zero_imphash_is_no_imphash() {
    let zero = "0".repeat(32);
    assert!(err(IocType::Imphash, &zero).contains("no imphash"));
    let s = spec(IocType::Imphash);
    assert!(s.candidates(&zero, DomainMatch::Exact).unwrap().is_empty());
    // An all-zero MD5 is an ordinary (if odd) value.
    assert_eq!(
        spec(IocType::Md5)
            .candidates(&zero, DomainMatch::Exact)
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn empty_log_values_are_missing_and_bad_hashes_are_errors() {
    let s = spec(IocType::Sha1);
    assert!(s.candidates("  ", DomainMatch::Exact).unwrap().is_empty());
    assert!(s.candidates("xyz", DomainMatch::Exact).is_err());
    assert!(spec(IocType::Domain).candidates_bytes(b"abc").is_err());
    assert_eq!(
        spec(IocType::Md5).candidates_bytes(&[7; 16]).unwrap().len(),
        1
    );
}

#[test]
fn domains_are_lower_cased_idna_without_trailing_dot() {
    assert_eq!(ioc(IocType::Domain, " Evil.COM. ").text, "evil.com");
    assert_eq!(
        ioc(IocType::Domain, "Bücher.example").text,
        "xn--bcher-kva.example"
    );
    assert_eq!(
        ioc(IocType::Domain, "xn--bcher-kva.example").digest,
        ioc(IocType::Domain, "bücher.example").digest
    );
    assert_eq!(
        ioc(IocType::Domain, "_ldap._tcp.dc.corp").text,
        "_ldap._tcp.dc.corp"
    );
    for bad in [
        "",
        ".",
        "a..b",
        "*.evil.com",
        ".ac.cn",
        "evil .com",
        "a/b.com",
        "http://evil.com",
    ] {
        assert!(spec(IocType::Domain).canonical_ioc(bad).is_err(), "{bad:?}");
    }
    assert!(err(IocType::Domain, ".ac.cn").contains("leading dot"));
    assert!(err(IocType::Domain, &format!("{}.com", "a".repeat(64))).contains("63"));
    let long = vec!["abcdefghi"; 26].join(".");
    assert!(err(IocType::Domain, &long).contains("253"));
}

#[test]
fn subdomain_matching_uses_label_suffixes() {
    let (s, iocs) = set(IocType::Domain, true, &["evil.com"]);
    let evil = &iocs[0];
    let sub = DomainMatch::Subdomain;
    assert!(hits(&s, evil, "evil.com", DomainMatch::Exact));
    assert!(!hits(&s, evil, "a.b.evil.com", DomainMatch::Exact));
    assert!(hits(&s, evil, "a.b.EVIL.com.", sub));
    assert!(!hits(&s, evil, "notevil.com", sub));
    assert!(!hits(&s, evil, "evil.com.au", sub));
    // Never a public suffix: `com`, `co.uk`, `uk` are not candidates.
    assert_eq!(s.candidates("a.b.evil.com", sub).unwrap().len(), 3);
    assert_eq!(s.candidates("a.evil.co.uk", sub).unwrap().len(), 2);
    let (tld, tlds) = set(IocType::Domain, true, &["com", "co.uk"]);
    assert!(!hits(&tld, &tlds[0], "a.example.com", sub));
    assert!(!hits(&tld, &tlds[1], "a.example.co.uk", sub));
    assert!(
        hits(&tld, &tlds[0], "com", sub),
        "the name itself still matches exactly"
    );
    // Log values that are not names never match (and are not errors).
    assert!(s.candidates("not a name", sub).unwrap().is_empty());
}

#[test]
fn ips_use_mapped_space_and_masked_cidrs() {
    let (s, iocs) = set(
        IocType::Ipv4,
        true,
        &["203.0.113.0/24", "198.51.100.7", "10.0.0.0/8"],
    );
    assert_eq!(s.lengths, vec![8, 24, 32]);
    assert_eq!(iocs[0].text, "203.0.113.0/24");
    assert_eq!(iocs[1].text, "198.51.100.7");
    let e = DomainMatch::Exact;
    assert!(hits(&s, &iocs[0], "203.0.113.99", e));
    assert!(hits(&s, &iocs[0], "::ffff:203.0.113.1", e));
    assert!(!hits(&s, &iocs[0], "203.0.114.1", e));
    assert!(hits(&s, &iocs[1], " 198.51.100.7 ", e));
    assert!(!hits(&s, &iocs[1], "198.51.100.8", e));
    assert!(hits(&s, &iocs[2], "10.255.0.1", e));
    assert!(s.candidates("-", e).unwrap().is_empty());
    assert!(s.candidates("300.1.1.1", e).unwrap().is_empty());
    // Host bits, bad prefixes, wrong family.
    assert!(err(IocType::Ipv4, "203.0.113.5/24").contains("host bits"));
    assert!(err(IocType::Ipv4, "10.0.0.0/33").contains("prefix"));
    assert!(err(IocType::Ipv4, "2001:db8::/32").contains("IPv4"));
    assert!(err(IocType::Ipv4, "10.0.0").contains("not an IP"));
    // A mapped IPv6 IOC is its IPv4 form.
    assert_eq!(
        ioc(IocType::Ipv4, "::ffff:198.51.100.7").digest,
        iocs[1].digest
    );
}

#[test]
fn ipv6_zero_compression_zones_and_brackets() {
    let (s, iocs) = set(
        IocType::Ipv6,
        true,
        &["2001:DB8:0:0::/32", "2001:db8::1", "10.0.0.0/8"],
    );
    assert_eq!(iocs[0].text, "2001:db8::/32");
    assert_eq!(iocs[2].text, "10.0.0.0/8");
    assert_eq!(s.lengths, vec![32, 104, 128]);
    let e = DomainMatch::Exact;
    assert!(hits(&s, &iocs[0], "2001:0db8:ffff::1", e));
    assert!(hits(&s, &iocs[1], "[2001:db8:0:0:0:0:0:1]", e));
    assert!(hits(&s, &iocs[1], "2001:db8::1%eth0", e));
    assert!(hits(&s, &iocs[2], "10.1.2.3", e));
    assert!(!hits(&s, &iocs[0], "2001:db9::1", e));
}

#[test]
fn substrings_match_windows_with_an_explicit_case_rule() {
    let (ci, iocs) = set(IocType::Substring, false, &["Key4.DB", "lsadump::"]);
    assert_eq!(iocs[0].text, "key4.db");
    assert_eq!(ci.lengths, vec![7, 9]);
    let e = DomainMatch::Exact;
    assert!(hits(&ci, &iocs[0], r"copy C:\Users\x\KEY4.db out", e));
    assert!(hits(&ci, &iocs[1], "mimikatz LSADUMP::sam", e));
    assert!(!hits(&ci, &iocs[0], "key4-db", e));
    let (cs, iocs) = set(IocType::Substring, true, &["Key4.DB"]);
    assert!(!hits(&cs, &iocs[0], "key4.db", e));
    assert!(hits(&cs, &iocs[0], "xKey4.DBx", e));
    // Case-sensitive and -insensitive sets never share digests.
    assert_ne!(
        SetSpec::new(IocType::Substring, true)
            .canonical_ioc("a")
            .unwrap()
            .digest,
        SetSpec::new(IocType::Substring, false)
            .canonical_ioc("a")
            .unwrap()
            .digest
    );
    // Windows count characters, not bytes; repeated windows appear once.
    let (u, iocs) = set(IocType::Substring, true, &["é€"]);
    assert!(hits(&u, &iocs[0], "aé€b", e));
    assert_eq!(u.candidates("aaaa", e).unwrap().len(), 1);
    assert!(u.candidates("a", e).unwrap().is_empty());
    assert!(err(IocType::Substring, "").contains("empty"));
    assert!(u.candidates(&"x".repeat(40_000), e).is_err());
}

#[test]
fn declared_lengths_are_checked_and_padded() {
    let s = SetSpec::new(IocType::Substring, false);
    let c = vec![s.canonical_ioc("abc").unwrap()];
    assert_eq!(
        s.clone().with_lengths(&c, &[5, 3, 4]).unwrap().lengths,
        vec![3, 4, 5]
    );
    assert!(s.with_lengths(&c, &[0]).is_err());
    let v4 = SetSpec::new(IocType::Ipv4, true);
    assert!(v4.with_lengths(&[], &[33]).is_err());
    assert!(SetSpec::new(IocType::Md5, true)
        .with_lengths(&[], &[3])
        .is_err());
    let mut too_many = SetSpec::new(IocType::Ipv6, true);
    too_many.lengths = (0..=128).collect();
    assert!(too_many.validate().is_err());
}

#[test]
fn single_candidate_types() {
    assert!(spec(IocType::Sha256).single_candidate(DomainMatch::Exact));
    assert!(spec(IocType::Domain).single_candidate(DomainMatch::Exact));
    assert!(!spec(IocType::Domain).single_candidate(DomainMatch::Subdomain));
    assert!(set(IocType::Ipv4, true, &["1.2.3.4"])
        .0
        .single_candidate(DomainMatch::Exact));
    assert!(!set(IocType::Substring, true, &["ab"])
        .0
        .single_candidate(DomainMatch::Exact));
}
