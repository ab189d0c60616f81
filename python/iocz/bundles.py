"""Query and result bundles: the files the two parties exchange.

* :class:`Query` (agency → company): the server key (or only its fingerprint), one encrypted
  IOC set per IOC type with its options. No secret key, no plaintext IOC. The agency keeps a
  local manifest (slot → IOC → labels, written 0600 next to its client key) to read results.
* :class:`Result` (company → agency): released counts (per IOC and total, per column and per
  group if asked: one compressed list each, re-randomised and refreshed, at the width the query
  declares) and scan metadata; bound to the query by the query's fingerprint.

Everything read is validated before use: the container (magic, version, checksums, limits) in
the Rust core, then the metadata fields, then each key, set and count against the pinned
parameters.

The classes live in :mod:`iocz.query_bundle` and :mod:`iocz.result_bundle`, what they share in
:mod:`iocz.bundle_format`; this module is their public face.
"""

from iocz.bundle_format import COUNT_WIDTHS, META_VERSION, manifest_dir
from iocz.query_bundle import Query, QuerySet
from iocz.result_bundle import Count, Decrypted, Result

__all__ = ["COUNT_WIDTHS", "META_VERSION", "Count", "Decrypted", "Query", "QuerySet", "Result", "manifest_dir"]
