"""The plugin's per-tenant settings: which internal addresses the webhook node may call."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated

import msgspec
from jimu_sdk import N_

SLUG = "flow_nodes"
HOST_NAME = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*"
                       r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?$")
AllowedHost = Annotated[str, msgspec.Meta(min_length=1, max_length=253,
                                          pattern=r"^[A-Za-z0-9.:/-]+$")]


def allowed_entry(entry: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | str:
    """An allow-list entry as a network (``10.0.5.0/24``, ``fd00::/8``, a single address) or
    a lower-case host name (``erp.intranet.example``); ``ValueError`` for anything else."""
    try:
        return ipaddress.ip_network(entry, strict=False)
    except ValueError:
        pass
    if "/" in entry or ":" in entry or not HOST_NAME.match(entry):
        raise ValueError(f"{entry!r} is neither a host name nor an IP address or network "
                         "(CIDR such as 10.0.5.0/24)")
    return entry.lower().rstrip(".")


class Settings(msgspec.Struct, forbid_unknown_fields=True):
    webhook_allowed_hosts: Annotated[list[AllowedHost], msgspec.Meta(
        max_length=100, title=N_("Internal addresses webhooks may call"),
        description=N_("Webhooks never call loopback, private, link-local or other internal "
                       "addresses, unless they are listed here: host names "
                       "(erp.intranet.example), IP addresses or networks (10.0.5.0/24)"))] = []

    def __post_init__(self) -> None:
        for entry in self.webhook_allowed_hosts:
            try:
                allowed_entry(entry)
            except ValueError as exc:
                raise ValueError(f"webhook_allowed_hosts: {exc}") from None
