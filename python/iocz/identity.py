"""Ed25519 identities and detached bundle signatures (PyCA ``cryptography``; no crypto of our own).

An identity is separate from the FHE keys: the agency signs its query bundles with it, the
company its result bundles. Files:

* ``identity.key``: the private half, PKCS#8 PEM, written owner-only (0600); refused when
  group or others can read it unless forced.
* ``identity.pub``: the public half, SubjectPublicKeyInfo PEM: what the other party lists as
  trusted (``iocz scan --trust``, ``iocz decrypt --expect-signer``).

A signature is a small JSON file next to the bundle, ``BUNDLE.sig``. It signs the SHA-256 of
the whole bundle file, the bundle's fingerprint and kind, the signer and the time; the bundle
itself is unchanged, so every existing check (magic, checksums, limits, conformance) still
runs on it. A signer is named by ``ed25519:`` and the first 16 bytes (hex) of the SHA-256 of its
raw 32-byte public key.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from iocz._files import write_atomic

#: File names ``iocz identity new`` writes.
PRIVATE_NAME, PUBLIC_NAME = "identity.key", "identity.pub"
#: Suffix of a bundle's detached signature file.
SIGNATURE_SUFFIX = ".sig"
_FORMAT = "iocz-signature"
_VERSION = 1
_CHUNK = 1 << 20


class SignatureError(ValueError):
    """A signature is missing, malformed, does not match its bundle, or is by the wrong key."""


def _raw(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def signer_id(public: Ed25519PublicKey) -> str:
    """The short name of a public key: ``ed25519:`` + 32 hex digits of its SHA-256."""
    return "ed25519:" + hashlib.sha256(_raw(public)).hexdigest()[:32]


@dataclass(frozen=True)
class PublicIdentity:
    """A public key that may have signed a bundle, with a human name (its file's stem)."""

    key: Ed25519PublicKey
    name: str

    @property
    def id(self) -> str:
        """The signer's short name (:func:`signer_id`)."""
        return signer_id(self.key)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> PublicIdentity:
        """Read ``identity.pub`` (PEM); a private key or any other file is refused."""
        p = Path(path)
        try:
            data = p.read_bytes()
        except OSError as e:
            raise SignatureError(f"cannot read public identity {p}: {e.strerror}") from None
        if b"PRIVATE KEY" in data:
            raise SignatureError(f"{p} is a private identity; give the public half (.pub)")
        try:
            key = serialization.load_pem_public_key(data)
        except ValueError:
            raise SignatureError(f"{p} is not a PEM public key (identity.pub from iocz identity new)") from None
        if not isinstance(key, Ed25519PublicKey):
            raise SignatureError(f"{p} is not an Ed25519 public key")
        name = p.stem if p.stem != "identity" else p.resolve().parent.name
        return cls(key, name)


@dataclass(frozen=True)
class Identity:
    """A private Ed25519 identity (the signing half)."""

    key: Ed25519PrivateKey

    @property
    def public(self) -> PublicIdentity:
        """Its public half."""
        return PublicIdentity(self.key.public_key(), "self")

    @classmethod
    def generate(cls) -> Identity:
        """A fresh identity from the operating system's generator."""
        return cls(Ed25519PrivateKey.generate())

    def save(self, folder: str | os.PathLike[str], *, overwrite: bool = False) -> tuple[Path, Path]:
        """Write ``identity.key`` (0600) and ``identity.pub`` into ``folder`` (created 0700)."""
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True, mode=0o700)
        private = self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        public = self.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        key_path = write_atomic(out / PRIVATE_NAME, private, secret=True, overwrite=overwrite)
        pub_path = write_atomic(out / PUBLIC_NAME, public, overwrite=overwrite)
        return key_path, pub_path

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, force: bool = False) -> Identity:
        """Read ``identity.key``; refused when group or others may read it unless ``force``."""
        p = Path(path)
        try:
            mode = p.stat().st_mode
            data = p.read_bytes()
        except OSError as e:
            raise SignatureError(f"cannot read identity {p}: {e.strerror}") from None
        if b"PRIVATE KEY" not in data:
            raise SignatureError(f"{p} is not a private identity (identity.key from iocz identity new)")
        if mode & (stat.S_IRWXG | stat.S_IRWXO) and not force:
            raise SignatureError(f"{p} is readable by group or others (mode {oct(mode & 0o777)}): chmod 600 it")
        try:
            key = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError):
            raise SignatureError(f"{p} is not a readable PEM private key") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise SignatureError(f"{p} is not an Ed25519 private key")
        return cls(key)

    def sign_bundle(self, bundle: str | os.PathLike[str], kind: str, fingerprint: str) -> Path:
        """Sign ``bundle`` (its SHA-256, ``kind`` and ``fingerprint``); writes ``BUNDLE.sig``
        (replacing an older one) and returns its path."""
        body = {
            "format": _FORMAT,
            "version": _VERSION,
            "kind": kind,
            "fingerprint": fingerprint,
            "sha256": file_sha256(bundle),
            "signer": signer_id(self.key.public_key()),
            "public_key": base64.b64encode(_raw(self.key.public_key())).decode(),
            "signed": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        signature = base64.b64encode(self.key.sign(_message(body))).decode()
        text = json.dumps({**body, "signature": signature}, indent=1) + "\n"
        return write_atomic(signature_path(bundle), text.encode(), overwrite=True)


def file_sha256(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def signature_path(bundle: str | os.PathLike[str]) -> Path:
    """Where the signature of ``bundle`` lives: ``BUNDLE.sig``."""
    return Path(str(bundle) + SIGNATURE_SUFFIX)


def _message(body: dict[str, Any]) -> bytes:
    """The signed bytes: the signature file's fields but the signature, canonical JSON."""
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


@dataclass(frozen=True)
class Signature:
    """A checked signature of a bundle: by whom, when, and whether the signer is trusted."""

    signer: str
    name: str | None
    signed: str
    trusted: bool

    def describe(self) -> str:
        """One line for the terminal."""
        who = f"{self.name} ({self.signer})" if self.name else self.signer
        return f"signed by {who} at {self.signed}, " + ("trusted" if self.trusted else "NOT a trusted signer")


def read_signature(
    bundle: str | os.PathLike[str],
    kind: str,
    trusted: list[PublicIdentity] | tuple[PublicIdentity, ...] = (),
    *,
    fingerprint: str | None = None,
) -> Signature | None:
    """The signature of ``bundle``, checked: None when there is no ``BUNDLE.sig``; raises
    :class:`SignatureError` when it is malformed, for another kind or bundle, or does not
    verify. ``fingerprint``: the bundle fingerprint the caller loaded (binds the loaded content
    to the signed file). Whether the signer is one of ``trusted`` is in the answer."""
    sig_path = signature_path(bundle)
    if not sig_path.exists():
        return None
    try:
        doc = json.loads(sig_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise SignatureError(f"{sig_path} is not a readable signature file ({e})") from None
    if not isinstance(doc, dict) or doc.get("format") != _FORMAT or doc.get("version") != _VERSION:
        raise SignatureError(f"{sig_path} is not an iocz signature (version {_VERSION})")
    fields = ("kind", "fingerprint", "sha256", "signer", "public_key", "signed", "signature")
    bad = [f for f in fields if not isinstance(doc.get(f), str)]
    if bad or set(doc) != {"format", "version", *fields}:
        raise SignatureError(f"{sig_path}: fields missing, invalid or unknown ({', '.join(bad) or 'extra fields'})")
    if doc["kind"] != kind:
        raise SignatureError(f"{sig_path} signs a {doc['kind']} bundle, {bundle} is read as a {kind} bundle")
    try:
        public = Ed25519PublicKey.from_public_bytes(base64.b64decode(doc["public_key"], validate=True))
        signature = base64.b64decode(doc["signature"], validate=True)
    except ValueError:
        raise SignatureError(f"{sig_path}: public key or signature is not valid base64 Ed25519") from None
    if signer_id(public) != doc["signer"]:
        raise SignatureError(f"{sig_path}: signer {doc['signer']} does not name its public key")
    body = {k: v for k, v in doc.items() if k != "signature"}
    try:
        public.verify(signature, _message(body))
    except InvalidSignature:
        raise SignatureError(f"{sig_path}: the signature does not verify (the signature file was altered)") from None
    if file_sha256(bundle) != doc["sha256"]:
        raise SignatureError(f"{bundle} was modified after it was signed (its SHA-256 differs from {sig_path.name}'s)")
    if fingerprint is not None and fingerprint != doc["fingerprint"]:
        raise SignatureError(f"{sig_path} signs bundle {doc['fingerprint']}, not the loaded {fingerprint}")
    match = next((t for t in trusted if _raw(t.key) == _raw(public)), None)
    return Signature(doc["signer"], match.name if match else None, doc["signed"], match is not None)


def expect_signer(
    bundle: str | os.PathLike[str], kind: str, expected: PublicIdentity, *, fingerprint: str | None = None
) -> Signature:
    """The signature of ``bundle``, required to be by ``expected``."""
    sig = read_signature(bundle, kind, [expected], fingerprint=fingerprint)
    if sig is None:
        raise SignatureError(f"{bundle} is not signed (no {signature_path(bundle).name}); expected {expected.id}")
    if not sig.trusted:
        raise SignatureError(f"{bundle} is signed by {sig.signer}, not by the expected {expected.id}")
    return sig
