"""Ed25519 identities and detached bundle signatures: identity files, a signed round trip on
the command line, tampered and unknown-signer queries refused before any work, a result signed
by another key refused at decrypt."""

from __future__ import annotations

import json
import os
from pathlib import Path

import iocz
import pytest
from company_support import save_query, scan_args, write_logs
from conftest import Keys
from iocz.cli import EXIT_INVALID, EXIT_OK, main
from iocz.identity import Identity, PublicIdentity, SignatureError, read_signature, signature_path
from iocz.ledger import Ledger


@pytest.fixture(scope="module")
def parties(keys: Keys, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """An agency (FHE keys, identity), a company identity, a stranger's identity, logs."""
    root = tmp_path_factory.mktemp("signing")
    agency = root / "agency"
    agency.mkdir()
    keys.client.save(agency / "client.key")
    keys.server.save(agency / "server.key")
    out: dict[str, Path] = {"root": root, "client": agency / "client.key", "logs": write_logs(root / "logs")}
    for who in ("agency-id", "company-id", "stranger-id"):
        assert main(["identity", "new", "--out", str(root / who)]) == EXIT_OK
        out[who] = root / who
    (root / "iocs.txt").write_text("027cc450ef5f8c5f653329641ec1fed91f694e0d229928963b30f6b0d7d3a745\n")
    return out


def _query(parties: dict[str, Path], name: str, signer: str | None) -> Path:
    out = parties["root"] / name
    sign = ["--sign", str(parties[signer] / "identity.key")] if signer else []
    args = ["query", "--key", str(parties["client"]), "--iocs", str(parties["root"] / "iocs.txt"), "--kernel", "scan"]
    assert main([*args, "--out", str(out), "--overwrite", *sign]) == EXIT_OK
    return out


def test_identity_files(parties: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    folder = parties["agency-id"]
    assert oct(os.stat(folder / "identity.key").st_mode & 0o777) == "0o600"
    public = PublicIdentity.load(folder / "identity.pub")
    assert public.id == Identity.load(folder / "identity.key").public.id and public.id.startswith("ed25519:")
    assert main(["identity", "new", "--out", str(folder)]) == EXIT_INVALID  # never replaced without --overwrite
    loose = parties["root"] / "loose.key"
    loose.write_bytes((folder / "identity.key").read_bytes())
    os.chmod(loose, 0o644)
    with pytest.raises(SignatureError, match="readable by group or others"):
        Identity.load(loose)
    with pytest.raises(SignatureError, match="is a private identity"):
        PublicIdentity.load(folder / "identity.key")


def test_signed_round_trip(parties: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    query = _query(parties, "signed.iocz", "agency-id")
    assert signature_path(query).exists()
    trust = ["--trust", str(parties["agency-id"] / "identity.pub")]
    assert main(["inspect", str(query), *trust]) == EXIT_OK
    shown = capsys.readouterr().out
    assert "signature: signed by agency-id (ed25519:" in shown and "trusted" in shown and "allowed" in shown
    out = tmp_path / "r.iocz"
    sign = ["--sign", str(parties["company-id"] / "identity.key")]
    assert main([*scan_args(query, parties["logs"], out), *trust, *sign]) == EXIT_OK
    assert "no trusted agency" not in capsys.readouterr().err
    [(_, entry)] = Ledger(tmp_path / "iocz-ledger.jsonl").read().entries
    assert entry["signer_name"] == "agency-id" and entry["signer_trusted"] and entry["agency"] == entry["signer"]
    assert main(["inspect", str(out)]) == EXIT_OK
    assert "signature: signed by ed25519:" in capsys.readouterr().out
    expect = ["--expect-signer", str(parties["company-id"] / "identity.pub")]
    decrypt = ["decrypt", str(out), "--key", str(parties["client"]), "--format", "json"]
    assert main([*decrypt, *expect]) == EXIT_OK
    counts = json.loads(capsys.readouterr().out)["counts"]
    assert [c["count"] for c in counts] == [2]
    # A result signed by another key is refused at decrypt, before any decryption.
    Identity.load(parties["stranger-id"] / "identity.key").sign_bundle(
        out, "result", iocz.Result.load(out).bundle_fingerprint
    )
    assert main([*decrypt, *expect]) == EXIT_INVALID
    assert "not by the expected ed25519:" in capsys.readouterr().err
    signature_path(out).unlink()
    assert main([*decrypt, *expect]) == EXIT_INVALID
    assert "is not signed" in capsys.readouterr().err


def test_tampered_unsigned_and_unknown_queries_are_refused_before_any_work(
    parties: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_load(*args: object, **kwargs: object) -> None:
        raise AssertionError("the query was loaded")

    monkeypatch.setattr(iocz.Query, "load", no_load)
    trust = ["--trust", str(parties["agency-id"] / "identity.pub")]
    out = tmp_path / "r.iocz"
    tampered = _query(parties, "tampered.iocz", "agency-id")
    data = bytearray(tampered.read_bytes())
    data[len(data) // 2] ^= 1
    tampered.write_bytes(bytes(data))
    assert main([*scan_args(tampered, parties["logs"], out), *trust]) == EXIT_INVALID
    assert "was modified after it was signed" in capsys.readouterr().err
    unknown = _query(parties, "unknown.iocz", "stranger-id")
    assert main([*scan_args(unknown, parties["logs"], out), *trust]) == EXIT_INVALID
    err = capsys.readouterr().err
    assert "rule [agencies] trusted: the query is signed by unknown ed25519:" in err and "agency-id" in err
    unsigned = _query(parties, "unsigned.iocz", None)
    assert main([*scan_args(unsigned, parties["logs"], out), *trust]) == EXIT_INVALID
    assert "rule [agencies] allow_unsigned: the query is unsigned" in capsys.readouterr().err
    policy = tmp_path / "policy.toml"
    policy.write_text(f"[agencies]\ntrusted = [{json.dumps(str(parties['agency-id'] / 'identity.pub'))}]\n")
    assert main([*scan_args(unsigned, parties["logs"], out), "--policy", str(policy)]) == EXIT_INVALID
    assert not out.exists()


def test_signature_files_are_checked(parties: dict[str, Path], keys: Keys, tmp_path: Path) -> None:
    query = save_query(keys, tmp_path)
    fingerprint = iocz.Query.load(query).bundle_fingerprint
    Identity.load(parties["agency-id"] / "identity.key").sign_bundle(query, "query", fingerprint)
    sig = read_signature(query, "query", fingerprint=fingerprint)
    assert sig is not None and not sig.trusted and sig.name is None
    with pytest.raises(SignatureError, match="signs a query bundle"):
        read_signature(query, "result")
    with pytest.raises(SignatureError, match="not the loaded"):
        read_signature(query, "query", fingerprint="0" * 32)
    doc = json.loads(signature_path(query).read_text())
    doc["signed"] = "2000-01-01T00:00:00+00:00"
    signature_path(query).write_text(json.dumps(doc))
    with pytest.raises(SignatureError, match="does not verify"):
        read_signature(query, "query")
    signature_path(query).write_text(json.dumps({**doc, "extra": 1}))
    with pytest.raises(SignatureError, match="unknown"):
        read_signature(query, "query")
