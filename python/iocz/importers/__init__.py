"""IOC importers behind :mod:`iocz.iocs` (the public entry point: ``iocz.load_iocs``).

* :mod:`iocz.importers.core`: IOC types, the import report, value resolution and refanging.
* :mod:`iocz.importers.text`: plain one-per-line lists and CSV.
* :mod:`iocz.importers.misp`: MISP JSON (events, attributes, objects, REST search responses).
* :mod:`iocz.importers.stix`: STIX 2.0 / 2.1 indicators with STIX patterns (parsed with ``stix2``).
* :mod:`iocz.importers.stix_pattern`: a STIX pattern as IOCs (an OR of conjunctions, each one checked).
"""
