//! Plaintext column ∈ cuckoo-hashed encrypted IOC set: which kernel runs for each question.
//!
//! - per-IOC counts (rows containing each IOC): [`crate::kernels::set_matching::count_per_slot`]
//!   over the distinct candidates, weighted by the rows holding them;
//! - rows matching at least one IOC: the sum of the per-IOC counts when every row has at most
//!   one candidate ([`SetSpec::single_candidate`]), else the OR per row of
//!   [`crate::kernels::row_matching::count_rows`];
//! - materialised per-row booleans: [`crate::kernels::row_matching::any_per_value`].

use std::collections::HashMap;

use tfhe::integer::IntegerCiphertext;
use tfhe::shortint::Ciphertext;

use crate::ciphertexts;
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::ioc::{DomainMatch, IocType, SetSpec};
use crate::kernels::row_matching::{self, Expanded};
use crate::kernels::set_matching::SlotMatches;
use crate::kernels::{counter, set_matching};
use crate::keys::ServerKey;
use crate::lookup;
use crate::query::kernel::{self, Choice, Kernel};
use crate::query::options::MatchOptions;
use crate::query::selector_cache::{CachedSlotSelectors, SelectorCache};
use crate::set::EncryptedSet;
use crate::wire::envelope::{check_key, Kind};

/// PBS per (value, group) pair of the weighted sum in a rows-matching-any count: an estimate
/// from the shape of tfhe's radix sum of one 16-block count per value, not yet calibrated
/// against measured runs (see [`SetQuery::total_pbs`]).
pub const TOTAL_PBS_PER_PAIR: u64 = 6;

/// What a set count answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetCount {
    /// One encrypted count per slot: rows containing each IOC (sealed `counts`).
    PerIoc,
    /// One encrypted count: rows matching at least one IOC (sealed `count`).
    AnyIoc,
}

/// A plaintext column matched against one loaded set: the set, its server key, the selector
/// cache, the domain match mode and the comparison settings, checked to fit together.
pub struct SetQuery<'a> {
    set: &'a EncryptedSet,
    sk: &'a ServerKey,
    tables: CachedSlotSelectors<'a>,
    mode: DomainMatch,
}

impl<'a> SetQuery<'a> {
    /// Check that `sk` is the set's key and `mode` fits the set's type.
    pub fn new(
        set: &'a EncryptedSet,
        sk: &'a ServerKey,
        cache: &'a SelectorCache,
        mode: DomainMatch,
        options: MatchOptions,
    ) -> Result<SetQuery<'a>> {
        check_key(set.key, sk.id(), Kind::Set)?;
        if mode != DomainMatch::Exact && set.spec.ioc_type != IocType::Domain {
            return Err(Error::InvalidInput(format!(
                "match=\"subdomain\" applies to domain sets; this set holds {} IOCs",
                set.spec.ioc_type.name()
            )));
        }
        let tables = CachedSlotSelectors {
            cache,
            sk,
            set,
            options,
        };
        Ok(SetQuery {
            set,
            sk,
            tables,
            mode,
        })
    }

    /// The set's public description (type, case rule, declared lengths).
    pub fn spec(&self) -> &SetSpec {
        &self.set.spec
    }

    /// The loaded set.
    pub fn set(&self) -> &EncryptedSet {
        self.set
    }

    /// The domain match mode.
    pub fn mode(&self) -> DomainMatch {
        self.mode
    }

    fn anchor(&self) -> Ciphertext {
        self.set.slot_radix(0).blocks()[0].clone()
    }

    /// Bits compared per digest.
    pub fn bits(&self) -> usize {
        self.tables.options.bits
    }

    /// The kernel for per-IOC counts of distinct `rows` (digest, multiplicity) in `groups`
    /// groups, and why: the caller's if it named one, else the cheaper predicted.
    pub fn choice(&self, rows: &[(Digest, u64)], groups: usize) -> Result<Choice> {
        let scan_pbs = set_matching::planned_pbs(&self.set.cuckoo, rows, None, self.bits(), 1);
        let mut choice = kernel::choose(self.set, rows.len(), groups, self.bits(), scan_pbs);
        if let Some(k) = self.tables.options.kernel {
            if k == Kernel::Lookup && self.set.lookup.is_none() {
                return Err(Error::InvalidInput(
                    "kernel=\"lookup\" needs a query made with kernel=\"lookup\" or \"auto\" \
                     (this set has no lookup part)"
                        .into(),
                ));
            }
            if k != choice.kernel {
                choice.reason = format!("the caller asked for it ({})", choice.reason);
            }
            choice.kernel = k;
        }
        Ok(choice)
    }

    /// Predicted PBS of counting the rows matching any IOC over `expanded` (`pairs`: its
    /// (value, group) pairs), or None when every row has at most one candidate (the total is
    /// then the sum of the per-IOC counts, nearly free). The scan kernel's comparisons of every
    /// distinct candidate and one refresh each, one OR per value, and about
    /// [`TOTAL_PBS_PER_PAIR`] per pair for its weighted sum.
    pub fn total_pbs(&self, expanded: &Expanded, pairs: usize) -> Option<u64> {
        if self.set.spec.single_candidate(self.mode) {
            return None;
        }
        let candidates: Vec<(Digest, u64)> = expanded.candidates.iter().map(|d| (*d, 1)).collect();
        let compare =
            set_matching::planned_pbs(&self.set.cuckoo, &candidates, None, self.bits(), 1);
        Some(
            compare
                + candidates.len() as u64
                + expanded.values.len() as u64
                + pairs as u64 * TOTAL_PBS_PER_PAIR,
        )
    }

    /// Per-bin counts through the lookup kernel, `[group][bin]`: released blocks at the
    /// query's count width (sealed with [`ciphertexts::seal_gated`]).
    fn lookup_counts(
        &self,
        digests: &[Digest],
        weights: &[Vec<u64>],
        bins: Option<std::ops::Range<usize>>,
    ) -> Result<Vec<Vec<tfhe::integer::RadixCiphertext>>> {
        let l = self.set.lookup.as_ref().expect("checked by choice");
        let q = &l.query;
        let bins = bins.unwrap_or(0..q.entries());
        lookup::eval::count_bins(
            self.sk.shortint(),
            self.sk.rerandomization(),
            q,
            digests,
            weights,
            self.bits(),
            q.count_bits(),
            bins,
            &|_| {},
        )
    }

    /// The sealed answer to `what` for the expanded distinct values of a column.
    /// `slot_stride` > 1 (benchmarks only) computes every n-th slot.
    pub fn count(
        &self,
        expanded: &Expanded,
        what: SetCount,
        slot_stride: usize,
    ) -> Result<Vec<u8>> {
        let anchor = self.anchor();
        let rows = expanded.candidate_rows();
        let lookup = self.choice(&rows, 1)?.kernel == Kernel::Lookup;
        let per_ioc = || -> Result<Vec<tfhe::integer::RadixCiphertext>> {
            if lookup {
                let (digests, weights): (Vec<Digest>, Vec<u64>) = rows.iter().copied().unzip();
                return Ok(self.lookup_counts(&digests, &[weights], None)?.remove(0));
            }
            Ok(set_matching::count_per_slot(
                self.sk.shortint(),
                &self.tables,
                &anchor,
                &self.set.cuckoo,
                &rows,
                self.bits(),
                slot_stride,
            ))
        };
        match what {
            SetCount::PerIoc if lookup => {
                ciphertexts::seal_gated(self.set.key, self.set.id, &per_ioc()?)
            }
            SetCount::PerIoc => ciphertexts::seal_counts(self.set.key, self.set.id, &per_ioc()?),
            SetCount::AnyIoc if self.set.spec.single_candidate(self.mode) => {
                // One candidate per row: rows with a match = Σ per-IOC counts.
                let total = counter::sum_counts(self.sk.integer(), &per_ioc()?, Some(&anchor));
                ciphertexts::seal_count(self.set.key, &total)
            }
            SetCount::AnyIoc => {
                let total = row_matching::count_rows(
                    self.sk.integer(),
                    &self.tables,
                    &anchor,
                    &self.set.cuckoo,
                    expanded,
                    self.bits(),
                );
                ciphertexts::seal_count(self.set.key, &total)
            }
        }
    }

    /// Sealed `(per-IOC counts, rows matching any IOC)` for each of `groups` groups, from each
    /// row's distinct-value index `rows` into `expanded`, its group index `row_groups` and its
    /// weight `row_weights` (the multiplicity of a pre-aggregated pair; None: 1 per row).
    /// The per-IOC comparisons run once for all groups ([`SlotMatches`]); each group then only
    /// weighs the booleans by its own rows. Rows matching any IOC: the sum of the group's
    /// per-IOC counts when every row has one candidate, else the OR kernel weighted by the group's
    /// values' per-row ORs, also computed once. Results are partial counts (trivial zeros allowed),
    /// for [`crate::combine::release`]. `bins` (lookup kernel only): count the lookup bins of this
    /// range only (a partition; the others stay empty); a total that needs the scan kernel is
    /// counted by the partition starting at bin 0 (the others give a trivial zero).
    /// `kernel`: the plan's choice ([`crate::query::plan::ColumnPlan`]), not recomputed here.
    /// `any_total` false: rows with several candidates get no total (empty; see
    /// [`Self::total_pbs`] for what it would cost).
    #[allow(clippy::too_many_arguments)]
    pub fn count_grouped(
        &self,
        rows: &[Option<u32>],
        row_groups: &[u32],
        row_weights: Option<&[u64]>,
        groups: usize,
        expanded: &Expanded,
        kernel: Kernel,
        bins: Option<std::ops::Range<usize>>,
        any_total: bool,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        if row_weights.is_some_and(|w| w.len() != rows.len()) {
            return Err(Error::InvalidInput(format!(
                "weights must be one per row (got {} for {} rows)",
                row_weights.map_or(0, <[u64]>::len),
                rows.len()
            )));
        }
        if rows.len() != row_groups.len() || row_groups.iter().any(|&g| g as usize >= groups) {
            return Err(Error::InvalidInput(format!(
                "group indices must be one per row (got {} for {} rows) and below {groups}",
                row_groups.len(),
                rows.len()
            )));
        }
        let mut per_value: Vec<HashMap<u32, u64>> = vec![HashMap::new(); expanded.values.len()];
        for (i, (v, &g)) in rows.iter().zip(row_groups).enumerate() {
            if let Some(v) = v {
                *per_value[*v as usize].entry(g).or_default() += row_weights.map_or(1, |w| w[i]);
            }
        }
        let mut per_candidate: Vec<HashMap<u32, u64>> =
            vec![HashMap::new(); expanded.candidates.len()];
        for ((ids, _), weights) in expanded.values.iter().zip(&per_value) {
            for &c in ids {
                for (&g, &w) in weights {
                    *per_candidate[c as usize].entry(g).or_default() += w;
                }
            }
        }
        let sks = self.sk.shortint();
        let is_lookup = kernel == Kernel::Lookup;
        if is_lookup && self.set.lookup.is_none() {
            return Err(Error::InvalidInput(
                "the lookup kernel needs a set with a lookup part".into(),
            ));
        }
        if bins.is_some() && !is_lookup {
            return Err(Error::InvalidInput(
                "bin ranges apply to the lookup kernel only".into(),
            ));
        }
        let first_partition = bins.as_ref().is_none_or(|b| b.start == 0);
        let lookup = if is_lookup {
            let weights: Vec<Vec<u64>> = (0..groups as u32)
                .map(|g| {
                    per_candidate
                        .iter()
                        .map(|m| m.get(&g).copied().unwrap_or(0))
                        .collect()
                })
                .collect();
            Some(self.lookup_counts(&expanded.candidates, &weights, bins)?)
        } else {
            None
        };
        let matches = lookup.is_none().then(|| {
            SlotMatches::new(
                sks,
                &self.tables,
                &self.set.cuckoo,
                &expanded.candidates,
                self.bits(),
            )
        });
        let several = !self.set.spec.single_candidate(self.mode);
        let totals = (several && any_total).then(|| {
            if !first_partition {
                let zero = counter::trivial_zero(sks);
                let zero =
                    tfhe::integer::RadixCiphertext::from(vec![zero; crate::params::COUNT_BLOCKS]);
                return vec![zero; groups];
            }
            row_matching::count_rows_grouped(
                self.sk.integer(),
                &self.tables,
                &self.anchor(),
                &self.set.cuckoo,
                expanded,
                &per_value,
                groups,
                self.bits(),
            )
        });
        (0..groups)
            .map(|g| {
                let per_slot = match (&matches, &lookup) {
                    (Some(m), _) => m.count(sks, |i| {
                        per_candidate[i].get(&(g as u32)).copied().unwrap_or(0)
                    }),
                    (None, Some(l)) => l[g].clone(),
                    (None, None) => unreachable!("one kernel ran"),
                };
                let total = match &totals {
                    Some(t) => ciphertexts::seal_count(self.set.key, &t[g])?,
                    // One candidate per row: rows with a match = Σ per-IOC counts, which the
                    // agency adds after decrypting the lookup's released per-bin counts.
                    // Several: not counted (`any_total` false).
                    None if lookup.is_some() || several => Vec::new(),
                    None => ciphertexts::seal_count(
                        self.set.key,
                        &counter::sum_counts(self.sk.integer(), &per_slot, None),
                    )?,
                };
                let per_ioc = if lookup.is_some() {
                    ciphertexts::seal_gated(self.set.key, self.set.id, &per_slot)?
                } else {
                    ciphertexts::seal_counts(self.set.key, self.set.id, &per_slot)?
                };
                Ok((per_ioc, total))
            })
            .collect()
    }

    /// Sealed per-row booleans "the row matches at least one IOC" (None for null rows), from
    /// each row's distinct-value index `rows` into `expanded`.
    pub fn rows(&self, rows: &[Option<u32>], expanded: &Expanded) -> Result<Vec<Option<Vec<u8>>>> {
        let sks = self.sk.shortint();
        let any =
            row_matching::any_per_value(sks, &self.tables, &self.set.cuckoo, expanded, self.bits());
        // Values without candidates never match: one encrypted false, made only if needed.
        let never = any
            .iter()
            .any(Option::is_none)
            .then(|| row_matching::encrypted_false(sks, &self.anchor()));
        let sealed = any
            .iter()
            .map(|m| {
                let m = m.as_ref().or(never.as_ref()).expect("made when needed");
                ciphertexts::seal_match(self.set.key, m)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(rows
            .iter()
            .map(|r| r.map(|i| sealed[i as usize].clone()))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ioc::CanonicalIoc;
    use crate::keys::Decrypted;
    use crate::query::values::expand;
    use crate::test_keys::keys;

    /// The service entry points a Python user reaches: subdomain expansion, per-IOC counts,
    /// rows matching any IOC and per-row booleans, against plaintext truth.
    #[test]
    fn domain_set_counts_through_the_service_layer() {
        let k = keys();
        let (set, manifest) =
            crate::test_keys::typed_set(IocType::Domain, &["evil.com", "bad.example.org"]);
        let cache = SelectorCache::default();
        let options = MatchOptions::new(64, 0).unwrap();
        let q = SetQuery::new(&set, &k.server, &cache, DomainMatch::Subdomain, options).unwrap();
        let column = [
            Some("a.evil.com"),
            Some("evil.com"),
            Some("x.bad.example.org"),
            Some("good.com"),
            None,
            Some("EVIL.com."),
        ];
        let (rows, expanded) = expand("q", q.spec(), q.mode(), column).unwrap();
        let decrypt = |bytes: Vec<u8>| k.client.decrypt(&bytes).unwrap();
        let Decrypted::Counts { per_slot, .. } =
            decrypt(q.count(&expanded, SetCount::PerIoc, 1).unwrap())
        else {
            panic!("not per-IOC counts")
        };
        let mut named = manifest.name_counts(&per_slot).unwrap();
        named.sort();
        assert_eq!(
            named,
            [("bad.example.org".into(), 1), ("evil.com".into(), 3)]
        );
        assert_eq!(
            decrypt(q.count(&expanded, SetCount::AnyIoc, 1).unwrap()),
            Decrypted::Count(4)
        );
        let matches: Vec<Option<Decrypted>> = q
            .rows(&rows, &expanded)
            .unwrap()
            .into_iter()
            .map(|m| m.map(decrypt))
            .collect();
        let t = Some(Decrypted::Match(true));
        let f = Some(Decrypted::Match(false));
        assert_eq!(matches, [t.clone(), t.clone(), t.clone(), f, None, t]);
        let sha = SetSpec::new(IocType::Sha256, true);
        let (sha_set, _) = EncryptedSet::encrypt(
            &k.client,
            sha,
            &[CanonicalIoc::sha256(crate::test_keys::digest(9))],
            2,
            0,
        )
        .unwrap();
        let e = SetQuery::new(&sha_set, &k.server, &cache, DomainMatch::Subdomain, options);
        assert!(e.is_err(), "subdomain matching needs a domain set");
    }

    /// Grouped counts (one comparison pass) equal each group's own ungrouped count, for a
    /// one-candidate set and a several-candidate one.
    #[test]
    fn grouped_counts_equal_per_group_counts() {
        let k = keys();
        let cache = SelectorCache::default();
        let options = MatchOptions::new(64, 0).unwrap();
        let (set, manifest) =
            crate::test_keys::typed_set(IocType::Domain, &["evil.com", "bad.org"]);
        let column = [
            Some("a.evil.com"),
            Some("evil.com"),
            Some("bad.org"),
            Some("good.com"),
            None,
            Some("a.evil.com"),
        ];
        let groups = [0u32, 1, 1, 2, 0, 0];
        let decrypt = |bytes: &[u8]| k.client.decrypt(bytes).unwrap();
        for mode in [DomainMatch::Exact, DomainMatch::Subdomain] {
            let q = SetQuery::new(&set, &k.server, &cache, mode, options).unwrap();
            let (rows, expanded) = expand("q", q.spec(), q.mode(), column).unwrap();
            let grouped = q
                .count_grouped(&rows, &groups, None, 3, &expanded, Kernel::Scan, None, true)
                .unwrap();
            // The same rows as weighted (group, value, multiplicity) pairs: same counts.
            let pairs = [
                (Some("a.evil.com"), 0u32, 2u64),
                (Some("evil.com"), 1, 1),
                (Some("bad.org"), 1, 1),
                (Some("good.com"), 2, 1),
                (None, 0, 1),
            ];
            let (p_rows, p_expanded) = crate::query::values::expand_weighted(
                "q",
                q.spec(),
                q.mode(),
                pairs.iter().map(|p| (p.0, p.2)),
            )
            .unwrap();
            let p_groups: Vec<u32> = pairs.iter().map(|p| p.1).collect();
            let p_weights: Vec<u64> = pairs.iter().map(|p| p.2).collect();
            let weighted = q
                .count_grouped(
                    &p_rows,
                    &p_groups,
                    Some(&p_weights),
                    3,
                    &p_expanded,
                    Kernel::Scan,
                    None,
                    true,
                )
                .unwrap();
            for ((a, b), (c, d)) in grouped.iter().zip(&weighted) {
                assert_eq!(decrypt(a), decrypt(c), "weighted per-IOC, {mode:?}");
                assert_eq!(decrypt(b), decrypt(d), "weighted total, {mode:?}");
            }
            assert_eq!(
                decrypt(&q.count(&p_expanded, SetCount::AnyIoc, 1).unwrap()),
                decrypt(&q.count(&expanded, SetCount::AnyIoc, 1).unwrap())
            );
            for (g, (per_ioc, total)) in grouped.iter().enumerate() {
                let mine: Vec<_> = column
                    .iter()
                    .zip(groups)
                    .filter(|(_, h)| *h as usize == g)
                    .map(|(v, _)| *v)
                    .collect();
                let (_, own) = expand("q", q.spec(), q.mode(), mine).unwrap();
                let Decrypted::Counts { per_slot, .. } = decrypt(per_ioc) else {
                    panic!("not per-IOC counts")
                };
                let Decrypted::Counts { per_slot: want, .. } =
                    decrypt(&q.count(&own, SetCount::PerIoc, 1).unwrap())
                else {
                    panic!("not per-IOC counts")
                };
                assert_eq!(per_slot, want, "group {g}, {mode:?}");
                assert_eq!(manifest.name_counts(&per_slot).unwrap().len(), 2);
                let want_total = decrypt(&q.count(&own, SetCount::AnyIoc, 1).unwrap());
                assert_eq!(decrypt(total), want_total, "group {g}, {mode:?}");
            }
        }
        let q = SetQuery::new(&set, &k.server, &cache, DomainMatch::Exact, options).unwrap();
        let (rows, expanded) = expand("q", q.spec(), q.mode(), column).unwrap();
        assert!(q
            .count_grouped(
                &rows,
                &groups[..2],
                None,
                3,
                &expanded,
                Kernel::Scan,
                None,
                true
            )
            .is_err());
        assert!(q
            .count_grouped(&rows, &groups, None, 2, &expanded, Kernel::Scan, None, true)
            .is_err());
        assert!(q
            .count_grouped(
                &rows,
                &groups,
                Some(&[1, 2]),
                3,
                &expanded,
                Kernel::Scan,
                None,
                true
            )
            .is_err());
    }
}
