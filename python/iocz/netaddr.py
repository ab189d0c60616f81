"""IP address text, shared by the agency's importers and the company's column checks."""

from __future__ import annotations

import ipaddress


def is_ip(text: str) -> bool:
    """True for an IPv4 or IPv6 address (no CIDR)."""
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
