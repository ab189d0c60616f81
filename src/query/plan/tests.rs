//! A whole scan through the entry points Python uses: pairs → plan → every partition counted
//! → partial counts added → released → decrypted, against plaintext truth.

use super::*;
use crate::combine;
use crate::ioc::{DomainMatch, IocType};
use crate::keys::Decrypted;
use crate::query::options::MatchOptions;
use crate::query::selector_cache::SelectorCache;
use crate::test_keys::{keys, typed_set};

#[test]
fn a_whole_scan_runs_through_the_plan() {
    let k = keys();
    let (set, manifest) = typed_set(IocType::Domain, &["evil.com", "bad.org"]);
    let cache = SelectorCache::default();
    let options = MatchOptions::new(64, 0).unwrap();
    let q = SetQuery::new(&set, &k.server, &cache, DomainMatch::Subdomain, options).unwrap();
    // (value, group, rows): two groups; a blank, a null and a non-domain value.
    let pairs = [
        (Some("a.evil.com"), 0u32, 2u64),
        (Some("evil.com"), 1, 1),
        (Some("x.bad.org"), 1, 3),
        (Some("good.com"), 0, 1),
        (Some("  "), 0, 4),
        (None, 1, 1),
        (Some("localhost"), 1, 2),
        (Some("a.evil.com"), 1, 1),
    ];
    let plan = ColumnPlan::new(
        &q,
        "query",
        Pairs {
            values: pairs.iter().map(|p| p.0).collect(),
            groups: pairs.iter().map(|p| p.1).collect(),
            weights: pairs.iter().map(|p| p.2).collect(),
            n_groups: 2,
        },
        PlanOptions {
            partition_size: 2,
            any_total: Some(true),
            count_bits: 16,
            bins_per_partition: 256,
        },
    )
    .unwrap();
    assert_eq!(
        plan.quality,
        ColumnQuality {
            rows: 10,
            distinct: 5,
            missing_rows: 5,
            bad_rows: 2,
            bad_distinct: 1,
            skipped: false,
            first_bad: Some("localhost".into()),
        }
    );
    assert_eq!(plan.choice.kernel, Kernel::Scan);
    assert!(plan.any_total && plan.total_pbs.is_some());
    assert_eq!(plan.partitions.len(), 3, "5 distinct values in chunks of 2");
    assert_eq!(plan.partitions.iter().map(|p| p.rows).sum::<u64>(), 10);
    assert_eq!(
        plan.pair_partitions()[4],
        None,
        "the blank value is left out"
    );
    let counts: Vec<GroupCounts> = (0..plan.partitions.len())
        .map(|p| plan.count(&q, p).unwrap())
        .collect();
    // Plaintext truth per group: (evil.com, bad.org, rows matching any).
    let want = [(2, 0, 2), (2, 3, 5)];
    for (g, (evil, bad, any)) in want.into_iter().enumerate() {
        let mine = || counts.iter().flatten().filter(|c| c.0 == g as u32);
        let per_ioc: Vec<Vec<u8>> = mine().map(|c| c.1.clone()).collect();
        let totals: Vec<Vec<u8>> = mine().map(|c| c.2.clone()).collect();
        let per_ioc = combine::add(&k.server, &per_ioc).unwrap();
        let total = combine::add(&k.server, &totals).unwrap();
        let released = combine::release(&k.server, &per_ioc, &total, 16, 10, false).unwrap();
        let Decrypted::Released {
            per_slot, total, ..
        } = k.client.decrypt(&released).unwrap()
        else {
            panic!("not released counts")
        };
        let mut named = manifest.name_counts(&per_slot).unwrap();
        named.sort();
        assert_eq!(
            named,
            [("bad.org".into(), bad), ("evil.com".into(), evil)],
            "group {g}"
        );
        assert_eq!(total, Some(any), "group {g}");
    }
    assert!(plan.count(&q, 3).is_err(), "no such partition");
}

#[test]
fn hash_values_merge_by_case_and_bad_ones_are_skipped() {
    let k = keys();
    let (set, _) = typed_set(IocType::Md5, &[&"ab".repeat(16)]);
    let cache = SelectorCache::default();
    let options = MatchOptions::new(64, 0).unwrap();
    let q = SetQuery::new(&set, &k.server, &cache, DomainMatch::Exact, options).unwrap();
    let upper = "AB".repeat(16);
    let lower = "ab".repeat(16);
    let values = vec![
        Some(upper.as_str()),
        Some(lower.as_str()),
        Some("N/A"),
        Some("-"),
    ];
    let plan = ColumnPlan::new(
        &q,
        "h",
        Pairs {
            groups: vec![0; 4],
            weights: vec![1, 2, 5, 1],
            values,
            n_groups: 1,
        },
        PlanOptions {
            partition_size: 2048,
            any_total: None,
            count_bits: 32,
            bins_per_partition: 256,
        },
    )
    .unwrap();
    assert_eq!(plan.quality.bad_rows, 6);
    assert!(plan.quality.skipped);
    assert_eq!(plan.quality.first_bad.as_deref(), Some("-"));
    assert_eq!(
        plan.total_pbs, None,
        "one candidate per row: the total is free"
    );
    assert_eq!(plan.partitions.len(), 1);
    assert_eq!(
        plan.partitions[0].values,
        0..1,
        "ABC… and abc… are one value"
    );
    assert_eq!(plan.partitions[0].rows, 3);
    assert_eq!(plan.pair_partitions(), [Some(0), Some(0), None, None]);
}
