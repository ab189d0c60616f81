"""The company's policy: every rule refused with its message and allowed at its limit, the
default policy, malformed policy files, the public-suffix rule on real FHE counts, dry runs and
refusals before any FHE work."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path
from typing import Any

import iocz
import polars as pl
import pytest
from company_support import SHA, save_query, scan_args, write_logs
from conftest import Keys
from iocz.cli import EXIT_INVALID, EXIT_OK, main
from iocz.ledger import Ledger
from iocz.plan import plan_scan
from iocz.policy import Policy, PolicyError, PolicyRefused, template
from iocz.profile import QueryProfile, SetProfile


def _set(ioc_type: str = "sha256", **changes: Any) -> SetProfile:
    base = SetProfile(0, ioc_type, 22, 10, (), "exact", False, "scan")
    return dataclasses.replace(base, **changes)


def _profile(*sets: SetProfile, count_bits: int = 32) -> QueryProfile:
    numbered = tuple(dataclasses.replace(s, index=i) for i, s in enumerate(sets or (_set(),)))
    return QueryProfile("f" * 32, "k" * 16, count_bits, numbered)


# (rule, policy changes, a profile at the limit, a profile past it)
QUERY_RULES: dict[str, tuple[dict[str, Any], QueryProfile, QueryProfile]] = {
    "max_entries_per_set": (
        {"max_entries_per_query": 10**6},
        _profile(_set(entries=50_000)),
        _profile(_set(entries=50_001)),
    ),
    "max_entries_per_query": (
        {"max_entries_per_query": 100},
        _profile(_set(entries=50), _set("md5", entries=50)),
        _profile(_set(entries=50), _set("md5", entries=51)),
    ),
    "min_substring_length": (
        {},
        _profile(_set("substring", lengths=(4, 9))),
        _profile(_set("substring", lengths=(3,))),
    ),
    "min_ipv4_prefix": ({}, _profile(_set("ipv4", lengths=(16, 32))), _profile(_set("ipv4", lengths=(15, 32)))),
    "min_ipv6_prefix": ({}, _profile(_set("ipv6", lengths=(32,))), _profile(_set("ipv6", lengths=(31,)))),
    "allowed_types": ({"allowed_types": ("sha256",)}, _profile(_set()), _profile(_set("md5"))),
    "allowed_match": (
        {"allowed_match": ("exact",)},
        _profile(_set("domain")),
        _profile(_set("domain", match="subdomain")),
    ),
    "allowed_kernels": ({"allowed_kernels": ("scan",)}, _profile(_set(kernel="auto")), _profile(_set(kernel="lookup"))),
    "allowed_count_bits": ({"allowed_count_bits": (32,)}, _profile(), _profile(count_bits=16)),
}


@pytest.mark.parametrize("rule", sorted(QUERY_RULES))
def test_every_query_rule_refuses_past_its_limit_and_allows_at_it(rule: str) -> None:
    changes, at_limit, past = QUERY_RULES[rule]
    policy = dataclasses.replace(Policy.default(), **changes)
    assert policy.check_query(at_limit) == []
    [violation] = policy.check_query(past)
    assert violation.rule == f"[query] {rule}" and str(violation).startswith(f"rule [query] {rule}: ")


def test_every_scan_rule_refuses_past_its_limit_and_allows_at_it() -> None:
    policy = dataclasses.replace(
        Policy.default(),
        allowed_columns=("sha*",),
        allowed_group_by=("host",),
        allowed_sources=("logs/*.parquet",),
        max_groups=10,
        max_queries_per_day=3,
        allowed_kernels=("scan",),
    )
    assert policy.check_scan(["sha256"], "host", ["logs/a.parquet"], "auto") == []
    found = policy.check_scan(["sha256", "query"], "user", ["secret/b.parquet"], "lookup")
    assert [v.rule for v in found] == [
        "[scan] allowed_columns",
        "[scan] allowed_group_by",
        "[scan] allowed_sources",
        "[query] allowed_kernels",
    ]
    assert "column 'query'" in str(found[0]) and "sha*" in str(found[0])
    assert [v.rule for v in policy.check_scan(["sha256"], None, None, "scan")] == ["[scan] allowed_sources"]
    assert policy.check_groups(10) == [] and "11 groups" in str(policy.check_groups(11)[0])
    assert policy.check_rate("ed25519:x", 2) == [] and "3 answered to ed25519:x" in str(
        policy.check_rate("ed25519:x", 3)[0]
    )


def test_default_refuses_obvious_probes() -> None:
    default = Policy.default()
    [short] = default.check_query(_profile(_set("substring", lengths=(1,))))
    assert (
        str(short)
        == "rule [query] min_substring_length: set 0 (substring) declares length 1 (allowed: at least 4 characters)"
    )
    found = default.check_query(_profile(_set(entries=100_000)))
    assert [v.rule for v in found] == ["[query] max_entries_per_query", "[query] max_entries_per_set"]
    assert "100,000 entries" in str(found[1]) and "50,000" in str(found[1])
    assert default.check_signature(None) == []  # no trusted signer configured: none required
    assert default.clear_part == "full"


def test_template_is_the_default_with_every_rule_explained(capsys: pytest.CaptureFixture[str]) -> None:
    text = template()
    assert Policy.from_dict(tomllib.loads(text)) == dataclasses.replace(Policy.default(), source="policy")
    for field in dataclasses.fields(Policy):
        if field.name != "source":
            assert f"\n{field.name} = " in text and "# " in text.split(f"\n{field.name} = ")[0].splitlines()[-1]
    assert main(["policy", "template"]) == EXIT_OK
    assert capsys.readouterr().out == text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[query]\nmax_entrys = 3\n", "unknown key [query] max_entrys"),
        ("[queries]\nmax_groups = 3\n", "unknown section [queries]"),
        ("[scan]\nmax_groups = '3'\n", "[scan] max_groups must be a non-negative integer, not '3'"),
        ("[scan]\nmax_groups = -1\n", "[scan] max_groups must be a non-negative integer"),
        ("[query]\nallowed_types = 'sha256'\n", "[query] allowed_types must be a list of strings"),
        ("[query]\nallowed_types = ['sha512']\n", "[query] allowed_types: unknown 'sha512'"),
        ("[query]\nallowed_count_bits = [64]\n", "[query] allowed_count_bits: unknown 64"),
        ("[scan]\nclear_part = 'some'\n", "[scan] clear_part must be one of full, redacted, none"),
        ("[agencies]\nallow_unsigned = 1\n", "[agencies] allow_unsigned must be true or false"),
        ("[agencies]\ntrusted = ['missing.pub']\n", "cannot read public identity"),
        ("[scan\n", "is not valid TOML"),
        ("query = 3\n", "[query] must be a table"),
    ],
)
def test_malformed_policy_files_are_one_line_errors_naming_the_key(
    tmp_path: Path, text: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(text)
    with pytest.raises(PolicyError, match=None) as e:
        Policy.load(path)
    assert message in str(e.value)
    assert main(["policy", "check", str(path)]) == EXIT_INVALID
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and message in err


@pytest.fixture(scope="module")
def domain_query(keys: Keys, tmp_path_factory: pytest.TempPathFactory) -> iocz.Query:
    folder = tmp_path_factory.mktemp("psl")
    iocs = [iocz.Ioc("domain", "com"), iocz.Ioc("domain", "example.com")]
    return iocz.Query.load(save_query(keys, folder, iocs, domain_match="subdomain"))


def _domain_counts(keys: Keys, query: iocz.Query, folder: Path, **options: Any) -> dict[str, int]:
    logs = pl.DataFrame({"query": ["a.example.com", "b.example.com", "www.example.org"]})
    result = iocz.scan(logs, query, {"domain": "query"}, bits=64, progress=False, **options)
    result.save(folder / "r.iocz", overwrite=True)
    assert query.path is not None
    manifest = query.path.parent / "queries" / f"{query.bundle_fingerprint}.json"
    out = iocz.Result.load(folder / "r.iocz").decrypt(keys.client, manifest=manifest)
    return dict(zip(out.counts["ioc"], out.counts["count"], strict=True))


def test_an_ioc_com_with_subdomain_matching_counts_nothing(
    keys: Keys, domain_query: iocz.Query, tmp_path: Path
) -> None:
    ledger = tmp_path / "ledger.jsonl"
    got = _domain_counts(keys, domain_query, tmp_path, policy=Policy.default(), ledger=ledger)
    assert got == {"com": 0, "example.com": 2}
    [(_, entry)] = Ledger(ledger).read().entries
    saved = iocz.Result.load(tmp_path / "r.iocz")
    assert entry["result"] == saved.bundle_fingerprint and entry["result_bytes"] == (tmp_path / "r.iocz").stat().st_size
    assert (
        entry["query"] == domain_query.bundle_fingerprint and entry["agency"] == f"key:{domain_query.key_fingerprint}"
    )
    assert [s["match"] for s in entry["profile"]["sets"]] == ["subdomain"] and entry["verdict"] == "allowed"
    assert saved.metadata["public_suffix_list"] == iocz._iocz.PUBLIC_SUFFIX_LIST
    # Without any policy too: the rule is the Rust core's, not an option.
    assert _domain_counts(keys, domain_query, tmp_path)["com"] == 0


def test_refusals_come_before_any_fhe_work(keys: Keys, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    query = save_query(keys, tmp_path / "agency", [iocz.Ioc("substring", "ab"), iocz.Ioc("sha256", SHA)])
    logs = write_logs(tmp_path / "logs", {"cmd": ["xaby"], "sha256": [SHA]})
    out = tmp_path / "r.iocz"
    iocz.reset_pbs_count()
    args = scan_args(query, logs, out, "--column", "substring=cmd")
    assert main(args) == EXIT_INVALID
    # Every scan notes that no trusted agency is configured; then one line per broken rule.
    err = [line for line in capsys.readouterr().err.splitlines() if not line.startswith("policy: no trusted")]
    assert err == [
        "iocz: refused by built-in default policy: rule [query] min_substring_length: set 1 (substring) declares "
        "length 2 (allowed: at least 4 characters)"
    ]
    assert iocz.pbs_count() == 0 and not out.exists() and not Path(str(out) + ".partial").exists()
    assert main(["inspect", str(query), "--policy", _write(tmp_path, "")]) == EXIT_INVALID
    assert "min_substring_length" in capsys.readouterr().err
    policy = _write(tmp_path, "[query]\nmin_substring_length = 2\n[scan]\nmax_groups = 1\n")
    assert main([*args, "--policy", policy, "--dry-run"]) == EXIT_OK
    shown = capsys.readouterr().out
    assert "allowed" in shown and "PBS" in shown and "nothing was scanned" in shown
    assert iocz.pbs_count() == 0 and not out.exists() and not (tmp_path / "iocz-ledger.jsonl").exists()


def _write(folder: Path, text: str) -> str:
    path = folder / "policy.toml"
    path.write_text(text)
    return str(path)


def test_groups_and_rate_limits_refuse_after_the_clear_part(keys: Keys, tmp_path: Path) -> None:
    query = iocz.Query.load(save_query(keys, tmp_path))
    logs = pl.DataFrame({"sha256": [SHA, SHA, "5f" * 32], "host": ["a", "b", "c"]})
    ledger = tmp_path / "ledger.jsonl"
    policy = dataclasses.replace(Policy.default(), max_groups=2, max_queries_per_day=1)
    plan = plan_scan(logs, query, {"sha256": "sha256"}, group_by="host", bits=64, policy=policy, ledger=ledger)
    assert not plan.allowed and [v.rule for v in plan.violations] == ["[scan] max_groups"] and plan.groups == 3
    iocz.reset_pbs_count()
    with pytest.raises(PolicyRefused, match=r"rule \[scan\] max_groups: 3 groups \(allowed: at most 2\)"):
        iocz.scan(
            logs, query, {"sha256": "sha256"}, group_by="host", bits=64, progress=False, policy=policy, ledger=ledger
        )
    assert iocz.pbs_count() == 0
    Ledger(ledger).append({"agency": f"key:{query.key_fingerprint}", "query": "earlier"})
    with pytest.raises(PolicyRefused, match=r"max_queries_per_day: 1 answered to key:"):
        iocz.scan(logs, query, {"sha256": "sha256"}, bits=64, progress=False, policy=policy, ledger=ledger)
    with pytest.raises(PolicyRefused, match="no ledger to count answered queries"):
        iocz.scan(logs, query, {"sha256": "sha256"}, bits=64, progress=False, policy=policy)
    assert iocz.pbs_count() == 0
