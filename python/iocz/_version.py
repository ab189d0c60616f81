"""The iocz version (one place; bundles record it)."""

__version__ = "0.1.0"
