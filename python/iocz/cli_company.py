"""The command line of the company's control: policies, identities, signatures and the ledger.

``iocz policy template|check``, ``iocz identity new``, ``iocz ledger show|verify``, and the
options ``iocz query --sign``, ``iocz inspect --policy/--trust``, ``iocz scan
--policy/--trust/--sign/--ledger/--dry-run`` and ``iocz decrypt --expect-signer`` (see
docs/COMPANY.md). :mod:`iocz.cli_parser` wires them in.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from iocz.bundles import Query
from iocz.guard import agency_of
from iocz.identity import Identity, PublicIdentity, expect_signer, read_signature
from iocz.ledger import DEFAULT_NAME, Ledger, LedgerError
from iocz.plan import ScanPlan, plan_scan
from iocz.policy import Policy, PolicyRefused, template
from iocz.profile import QueryProfile

Command = Callable[[Any, str, Callable[[argparse.Namespace], int], str], argparse.ArgumentParser]


def refused_lines(e: PolicyRefused) -> list[str]:
    """The terminal lines of a refusal: one per broken rule."""
    return [f"iocz: refused by {e.source}: {v}" for v in e.violations]


def policy_of(args: argparse.Namespace) -> Policy:
    """``--policy FILE`` (else the built-in default) trusting every ``--trust`` key too."""
    policy = Policy.load(args.policy) if args.policy else Policy.default()
    return policy.with_trusted(PublicIdentity.load(p) for p in args.trust or [])


def _print_signature(path: str, kind: str, policy: Policy | None) -> None:
    sig = read_signature(path, kind, policy.trusted if policy else ())
    print(f"signature: {sig.describe() if sig else 'none (the bundle is unsigned)'}")


# --- scan ---------------------------------------------------------------------------------


@dataclass
class CompanyScan:
    """What ``iocz scan`` adds to a scan: the policy, the company's signing identity, the ledger."""

    policy: Policy
    identity: Identity | None
    ledger: Path
    sources: list[str]

    def options(self) -> dict[str, Any]:
        """The options of :func:`iocz.scan` it sets."""
        return {"policy": self.policy, "ledger": self.ledger, "sources": self.sources}

    def sign(self, out: str, fingerprint: str) -> None:
        """Sign the written result (``--sign``)."""
        if self.identity is not None:
            sig = self.identity.sign_bundle(out, "result", fingerprint)
            print(f"result signed by {self.identity.public.id}: {sig}")


def company_scan(args: argparse.Namespace) -> CompanyScan:
    """Before any work: the policy, the signing identity, and the query's signature (a
    tampered, unsigned or unknown-signer query is refused here, before the bundle is loaded)."""
    policy = policy_of(args)
    identity = Identity.load(args.sign) if args.sign else None
    sig = read_signature(args.query, "query", policy.trusted)
    found = policy.check_signature(sig)
    if found:
        raise PolicyRefused(found, policy.source)
    checkpoint = Path(args.checkpoint) if args.checkpoint else Path(str(args.out) + ".partial")
    ledger = Path(args.ledger) if args.ledger else checkpoint.resolve().parent / DEFAULT_NAME
    sources = [args.table] if args.connect else list(args.logs or [])
    return CompanyScan(policy, identity, ledger, sources)


def print_plan(plan: ScanPlan) -> int:
    """``--dry-run``: the verdict and the planned cost; exit 1 when refused."""
    print("\n".join(plan.lines()))
    return 0 if plan.allowed else 1


def dry_run(logs: Any, query: Query, columns: dict[str, list[str]], options: dict[str, Any]) -> int:
    """``iocz scan --dry-run``: plan the scan (no FHE work, nothing written) and print it."""
    return print_plan(plan_scan(logs, query, columns, **options))


def add_scan_options(p: argparse.ArgumentParser) -> None:
    """``iocz scan``'s policy, signature and ledger options."""
    _policy_options(p)
    p.add_argument("--sign", metavar="ID.key", help="sign the result with the company's identity (writes OUT.sig)")
    p.add_argument(
        "--ledger",
        metavar="FILE",
        help=f"ledger to append the released result to (default: {DEFAULT_NAME} in the folder of the checkpoint)",
    )
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="run the policy checks and the clear part, print the verdict and the planned cost (PBS, time, "
        "result size); no FHE work, nothing written",
    )


def _policy_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--policy", metavar="FILE", help="company policy (TOML; default: the built-in policy)")
    p.add_argument(
        "--trust",
        action="append",
        metavar="AGENCY.pub",
        help="trust this agency identity (adds to the policy's [agencies] trusted; repeatable)",
    )


# --- inspect, query, decrypt ----------------------------------------------------------------


def add_inspect_options(p: argparse.ArgumentParser) -> None:
    """``iocz inspect``'s policy options."""
    _policy_options(p)


def inspect_company(args: argparse.Namespace, query: Query | None) -> int:
    """After the facts: who signed the bundle and, for a query, the policy's verdict."""
    policy = policy_of(args) if args.policy or args.trust else None
    if query is None:
        _print_signature(args.bundle, "result", policy)
        return 0
    sig = read_signature(args.bundle, "query", policy.trusted if policy else (), fingerprint=query.bundle_fingerprint)
    print(f"signature: {sig.describe() if sig else 'none (the bundle is unsigned)'}")
    if policy is None:
        return 0
    found = policy.check_query(QueryProfile.of(query)) + policy.check_signature(sig)
    if found:
        raise PolicyRefused(found, policy.source)
    print(f"policy ({policy.source}): allowed for {agency_of(query, sig)} (scan-time rules checked at scan)")
    return 0


def add_sign_option(p: argparse.ArgumentParser) -> None:
    """``iocz query --sign``."""
    p.add_argument("--sign", metavar="ID.key", help="sign the query with the agency's identity (writes OUT.sig)")


def load_signer(args: argparse.Namespace) -> Identity | None:
    """The ``--sign`` identity, loaded before any work."""
    return Identity.load(args.sign) if args.sign else None


def sign_query(identity: Identity | None, out: str, fingerprint: str) -> None:
    """Sign the written query."""
    if identity is not None:
        sig = identity.sign_bundle(out, "query", fingerprint)
        print(f"query signed by {identity.public.id}: {sig} (send it with the bundle)")


def add_expect_signer(p: argparse.ArgumentParser) -> None:
    """``iocz decrypt --expect-signer``."""
    p.add_argument(
        "--expect-signer",
        metavar="COMPANY.pub",
        help="refuse the result unless RESULT.sig is a valid signature by this company identity",
    )


def check_result_signer(args: argparse.Namespace) -> None:
    """Before decrypting: the result's signature, required with ``--expect-signer``."""
    if args.expect_signer:
        sig = expect_signer(args.result, "result", PublicIdentity.load(args.expect_signer))
        print(f"iocz: result {sig.describe()}", file=sys.stderr)
        return
    found = read_signature(args.result, "result")
    if found is not None:
        print(f"iocz: result {found.describe()} (check it with --expect-signer)", file=sys.stderr)


# --- policy, identity, ledger commands ------------------------------------------------------


def policy_command(args: argparse.Namespace) -> int:
    """Company policy files: "template" prints the default policy, every rule explained (save
    it, edit it, pass it with --policy); "check FILE" reads one and reports the first problem."""
    if args.action == "template":
        print(template(), end="")
        return 0
    if not args.file:
        raise ValueError("iocz policy check needs the policy FILE")
    policy = Policy.load(args.file)
    print(f"{args.file}: valid; trusted agencies: {', '.join(t.name for t in policy.trusted) or 'none'}")
    return 0


def identity_command(args: argparse.Namespace) -> int:
    """Ed25519 signing identity, separate from the FHE keys: "new --out DIR" writes
    identity.key (private, 0600: sign with it) and identity.pub (give it to the other party)."""
    key, pub = Identity.generate().save(args.out, overwrite=args.overwrite)
    print(f"identity {Identity.load(key).public.id}")
    print(f"  {key}  SECRET (0600): signs your bundles (--sign)")
    print(f"  {pub}  public: the other party trusts it (--trust, --expect-signer, policy [agencies] trusted)")
    return 0


def ledger_command(args: argparse.Namespace) -> int:
    """The company's ledger of released results: "show" lists entries (--since, --format json),
    "verify" recomputes the hash chain and names the first broken entry (exit 1)."""
    ledger = Ledger(args.ledger)
    if not ledger.path.exists():
        raise FileNotFoundError(f"no ledger at {ledger.path} (--ledger FILE)")
    if args.action == "verify":
        v = ledger.verify(head=args.head)
        for note in v.notes:
            print(f"iocz: {ledger.path}: {note}", file=sys.stderr)
        if v.broken:
            raise LedgerError(f"ledger {ledger.path} is broken at {v.broken} ({v.entries} entries before it verify)")
        print(f"ledger {ledger.path}: {v.entries} entries, chain intact; head {v.head} (keep it elsewhere)")
        return 0
    for note in ledger.read().notes():
        print(f"iocz: {ledger.path}: {note}", file=sys.stderr)
    entries = ledger.since(_since(args.since))
    if args.format == "json":
        print(json.dumps(entries, indent=1))
        return 0
    for e in entries:
        print(_entry_line(e))
    return 0


def _since(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        t = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"--since takes an ISO date or time (2024-05-13, 2024-05-13T08:00), not {text!r}") from None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def _entry_line(e: dict[str, Any]) -> str:
    sets = e.get("profile", {}).get("sets", [])
    profile = ", ".join(f"{s.get('ioc_type')}[{s.get('entries')}]" for s in sets)
    columns = ", ".join(str(c[1]) for c in e.get("columns") or [])
    who = e.get("signer_name") or e.get("agency")
    return (
        f"#{e.get('seq')} {e.get('time')} {who}: query {e.get('query')} ({profile}) columns {columns}, "
        f"{e.get('rows_scanned')} rows, {e.get('groups')} group(s), result {e.get('result')} "
        f"({e.get('result_bytes')} bytes), {e.get('verdict')}"
    )


def add_commands(sub: Any, command: Command) -> None:
    """Register ``policy``, ``identity`` and ``ledger``."""
    p = command(sub, "policy", policy_command, "company: print the default policy template, or check a policy")
    p.add_argument("action", choices=["template", "check"], help="template: print the default; check: read FILE")
    p.add_argument("file", nargs="?", help="policy file (check)")
    p = command(sub, "identity", identity_command, "create an Ed25519 signing identity (identity.key 0600, .pub)")
    p.add_argument("action", choices=["new"], help="new: create a key pair in --out")
    p.add_argument("--out", required=True, help="folder for identity.key and identity.pub (created 0700)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing identity")
    p = command(sub, "ledger", ledger_command, "company: show or verify the ledger of released results")
    p.add_argument("action", choices=["show", "verify"], help="show: print entries; verify: check the chain")
    p.add_argument("--ledger", default=DEFAULT_NAME, help=f"ledger file (default: ./{DEFAULT_NAME})")
    p.add_argument("--since", help="show: entries from this ISO date or time on")
    p.add_argument("--format", default="table", choices=["table", "json"], help="show: output format")
    p.add_argument("--head", help="verify: a head hash kept elsewhere that must still be in the chain")
