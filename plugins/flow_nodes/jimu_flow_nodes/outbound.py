"""Nodes that tell someone: notify (in-app, customer messages through channel adapters once a
channel plugin offers them) and outbound webhook (signed, retried on a durable timer).

A webhook never calls an internal address (loopback, private, link-local, multicast, reserved,
unspecified; IPv4 and IPv6) unless the tenant's admin lists it in the plugin's settings
(``webhook_allowed_hosts``): a flow designer must not be able to make the server call its own
network (169.254.169.254, the database, an admin port). A literal address is refused when the
flow is published; a host name is checked after it is resolved, at every send, and the request
then goes to the address that was checked (no second lookup for DNS rebinding to exploit).

Texts may quote the run's data with ``{{path}}`` (``{{claim.amount}}``, ``{{number}}``): a plain
lookup by dotted path, never an expression or Python formatting.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import ipaddress
import json
import re
import socket
import uuid
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal
from urllib.parse import SplitResult, urlsplit

import httpx
import msgspec
from jimu_sdk import N_, Advance, NodeContext, NodeType, Wait, localized, platform
from jimu_sdk.context import NoTenantScope

from jimu_flow_nodes import settings as config

UserId = Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)]
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][\w-]*(?:\.[\w-]+)*)\s*\}\}")
RoleName = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{0,62}$")]
DataKey = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z_][\w-]*(\.[\w-]+)*$", max_length=100)]


def fill(text: str, data: Mapping[str, Any]) -> str:
    """``{{a.b}}`` → the run's ``data["a"]["b"]`` as text (empty when missing)."""

    def value(match: re.Match[str]) -> str:
        found: Any = data
        for part in match.group(1).split("."):
            if not isinstance(found, Mapping) or part not in found:
                return ""
            found = found[part]
        if isinstance(found, (dict, list)):
            return json.dumps(found, ensure_ascii=False)
        return "" if found is None else str(found)

    return PLACEHOLDER.sub(value, text)


def _user_ids(value: Any) -> list[int]:
    values = value if isinstance(value, list | tuple) else [value]
    return [v for v in values if isinstance(v, int) and not isinstance(v, bool) and v > 0]


def _lookup(data: Mapping[str, Any], path: str) -> Any:
    found: Any = data
    for part in path.split("."):
        if not isinstance(found, Mapping):
            return None
        found = found.get(part)
    return found


# ----------------------------------------------------------------------------- notify


class NotifySettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    title: Annotated[str, msgspec.Meta(
        min_length=1, max_length=200, title=N_("Title"),
        description=N_("May quote the run's data, e.g. 工单 {{number}} 已完成"))]
    body: Annotated[str, msgspec.Meta(max_length=2000, title=N_("Message"))] = ""
    level: Annotated[Literal["info", "warning", "urgent"], msgspec.Meta(
        title=N_("Level"))] = "info"
    users: Annotated[list[UserId], msgspec.Meta(max_length=50, title=N_("People"),
                                                description=N_("User ids"))] = []
    roles: Annotated[list[RoleName], msgspec.Meta(
        max_length=20, title=N_("Roles"),
        description=N_("Everyone holding one of these roles, e.g. service, logistics"))] = []
    data_fields: Annotated[list[DataKey], msgspec.Meta(
        max_length=10, title=N_("People named in the run"),
        description=N_("Keys of the run's data holding user ids, e.g. assignee_id"))] = []
    customer: Annotated[bool, msgspec.Meta(
        title=N_("Tell the customer"),
        description=N_("Through the customer's channel (SMS, WeCom…) when a channel plugin "
                       "is on; otherwise the people above are asked to pass it on."))] = False
    link: Annotated[str, msgspec.Meta(
        max_length=500, title=N_("Link"),
        description=N_("A path in the platform, e.g. /admin/p/work_orders/{{work_order_id}}"))] = ""


def notify_check(settings: NotifySettings) -> list[str]:
    problems = []
    if not (settings.users or settings.roles or settings.data_fields or settings.customer):
        problems.append("name who is told: people, roles, people named in the run or the "
                        "customer")
    if settings.link and not settings.link.startswith("/"):
        problems.append("the link must be a path inside the platform, starting with /")
    return problems


async def notify_enter(context: NodeContext) -> Advance:
    settings: NotifySettings = context.settings
    data = {**context.data, "subject": context.subject}
    recipients = set(settings.users)
    for role in settings.roles:
        recipients |= {user["id"] for user in await platform().list_users(role=role)}
    for key in settings.data_fields:
        recipients |= set(_user_ids(_lookup(context.data, key)))
    title, body = fill(settings.title, data), fill(settings.body, data)
    notes = []
    if settings.customer:
        # No channel adapter is wired to flows yet: the staff pass the message on, and the
        # timeline says so, so nothing promised to the customer is silently dropped.
        notes.append("customer message handed to staff: no channel plugin is on")
        body = "\n".join(part for part in (body, relay_text(title)) if part)
    link = fill(settings.link, data) if settings.link else ""
    sent = await platform().notify(sorted(recipients), title, body=body, link=link,
                                   level=settings.level) if recipients else 0
    notes.insert(0, f"notified {sent} {'person' if sent == 1 else 'people'}")
    return Advance(note="; ".join(notes), data={context.node_id: {"notified": sent}})


def relay_text(title: str) -> str:
    return f"请转告客户 / Please pass on to the customer: {title}"


# ----------------------------------------------------------------------------- webhook


RETRY_MINUTES = (1, 5, 30, 120, 720)  # then the node leaves by "failed"
TIMEOUT_SECONDS = 10.0


class WebhookSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    url: Annotated[str, msgspec.Meta(min_length=8, max_length=2000, title=N_("URL"),
                                     description=N_("https://… that receives a JSON POST"))]
    secret: Annotated[str, msgspec.Meta(
        min_length=16, max_length=200, title=N_("Signing secret"),
        description=N_("The receiver checks X-Jimu-Signature: HMAC-SHA256 of "
                       "'<timestamp>.<body>' with this secret"))]
    fields: Annotated[list[DataKey], msgspec.Meta(
        max_length=50, title=N_("Data sent"),
        description=N_("Keys of the run's data to send; empty: all of it"))] = []
    attempts: Annotated[int, msgspec.Meta(ge=1, le=6, title=N_("Attempts"))] = 6


IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
NAT64 = ipaddress.ip_network("64:ff9b::/96")


def internal_kind(address: IPAddress) -> str | None:
    """Why ``address`` is no place for a webhook (``"loopback"``, ``"private"`` …), or
    ``None`` for a public one. IPv6 forms that carry an IPv4 address are judged by it."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour or (
            ipaddress.IPv4Address(int(address) & 0xFFFFFFFF) if address in NAT64 else None)
        if embedded is not None:
            return internal_kind(embedded)
    for kind in ("unspecified", "loopback", "link_local", "multicast", "reserved", "private"):
        if getattr(address, f"is_{kind}"):
            return kind.replace("_", "-")
    return None if address.is_global else "non-public"


def _allowed(host: str, address: IPAddress | None) -> bool:
    """Whether the tenant's admin allows ``host`` (by name) or ``address`` (by network)."""
    try:
        entries = platform().settings(config.SLUG).get("webhook_allowed_hosts") or []
    except NoTenantScope:
        entries = []
    name = host.lower().rstrip(".")
    for entry in entries:
        try:
            allowed = config.allowed_entry(entry)
        except ValueError:
            continue
        if isinstance(allowed, str):
            if allowed == name:
                return True
        elif address is not None and address.version == allowed.version \
                and address in allowed:
            return True
    return False


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _refusal(host: str, address: IPAddress) -> str | None:
    """Why sending to ``address`` (``host`` resolved) is refused, or ``None``."""
    kind = internal_kind(address)
    if kind is None or _allowed(host, address):
        return None
    shown = host if str(address) == host else f"{host} ({address})"
    return (f"{shown} is a {kind} address; webhooks call only public addresses unless the "
            "tenant's admin allows it in the settings of Basic flow nodes")


def webhook_check(settings: WebhookSettings) -> list[str]:
    url = urlsplit(settings.url)
    if url.scheme not in ("http", "https") or not url.hostname:
        return ["the URL must start with https:// (or http://) and name a host"]
    host = url.hostname
    address = _literal(host)
    if address is None and (host.rstrip(".") == "localhost" or
                            host.rstrip(".").endswith(".localhost")):
        address = ipaddress.ip_address("127.0.0.1")
    if address is not None:
        refused = _refusal(host, address)
        if refused:
            return [f"url: {refused}"]
    return []


async def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (the tests replace this)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class Refused(Exception):
    """The URL leads to an address this tenant does not allow: not worth retrying."""


async def vetted_target(url: SplitResult) -> tuple[str, dict[str, str], dict[str, Any]]:
    """Where to send: the URL with its host replaced by the checked address, the ``Host``
    header and TLS server name it needs; ``Refused`` when any address of the host is an
    internal one the tenant's admin did not allow."""
    host = url.hostname or ""
    port = url.port or (443 if url.scheme == "https" else 80)
    literal = _literal(host)
    if literal is None and _allowed(host, None):
        return url.geturl(), {}, {}  # allowed by name: whatever it resolves to
    if literal is not None:
        addresses: Sequence[str] = [host]
    else:
        try:
            addresses = await resolve(host, port)
        except OSError as exc:
            raise OSError(f"{host} could not be resolved: {exc}") from None
        if not addresses:
            raise OSError(f"{host} could not be resolved")
    checked = []
    for text in addresses:
        address = ipaddress.ip_address(text.split("%")[0])  # an IPv6 zone is no part of it
        refused = _refusal(host, address)
        if refused:
            raise Refused(refused)
        checked.append(address)
    pinned = checked[0]
    netloc = f"[{pinned}]" if pinned.version == 6 else str(pinned)
    if url.port is not None:
        netloc += f":{url.port}"
    target = url._replace(netloc=netloc).geturl()
    headers = {"host": url.netloc.rpartition("@")[2]}
    return target, headers, ({"sni_hostname": host} if url.scheme == "https" else {})


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """What ``X-Jimu-Signature`` carries: ``t=<timestamp>,v1=<hex HMAC-SHA256>``."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def webhook_enter(context: NodeContext) -> Wait:
    # Sent from the timer, not here: the call leaves the database transaction that moved
    # the run, and a failed attempt is retried by the same durable timer.
    return Wait(due=context.now, state={"attempt": 0, "delivery": uuid.uuid4().hex},
                note="webhook queued")


async def webhook_timer(context: NodeContext) -> Advance | Wait:
    settings: WebhookSettings = context.settings
    attempt = int(context.state.get("attempt", 0)) + 1
    delivery = str(context.state.get("delivery") or uuid.uuid4().hex)
    data = ({key: _lookup(context.data, key) for key in settings.fields} if settings.fields
            else {k: v for k, v in context.data.items() if not k.startswith("_")})
    body = json.dumps({"delivery": delivery, "flow": context.flow, "version": context.version,
                       "run_id": context.run_id, "node": context.node_id,
                       "subject": context.subject, "data": data},
                      ensure_ascii=False, sort_keys=True, default=str).encode()
    timestamp = str(int(context.now.timestamp()))
    headers = {"content-type": "application/json", "user-agent": "Jimu-Webhook/1",
               "x-jimu-delivery": delivery,  # the same on every attempt: receivers dedupe
               "x-jimu-signature": signature(settings.secret, timestamp, body)}
    try:
        target, pinned, extensions = await vetted_target(urlsplit(settings.url))
        async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS, follow_redirects=False) as client:
            answer = await client.post(target, content=body, headers={**headers, **pinned},
                                       extensions=extensions)
        problem = None if answer.is_success else f"HTTP {answer.status_code}"
    except Refused as exc:
        # Configuration, not a passing failure: leave by "failed" now, saying why.
        return Advance(outcome="failed", note=f"webhook refused: {exc}",
                       data={context.node_id: {"delivered": False, "attempts": attempt,
                                               "error": f"refused: {exc}"}})
    except OSError as exc:  # the name did not resolve: perhaps for a moment, tried again
        problem = str(exc)
    except httpx.HTTPError as exc:
        problem = type(exc).__name__
    if problem is None:
        return Advance(outcome="delivered", note=f"webhook delivered (attempt {attempt})",
                       data={context.node_id: {"delivered": True, "attempts": attempt}})
    if attempt >= settings.attempts:
        return Advance(outcome="failed", note=f"webhook failed {attempt} times: {problem}",
                       data={context.node_id: {"delivered": False, "attempts": attempt,
                                               "error": problem}})
    wait = RETRY_MINUTES[min(attempt, len(RETRY_MINUTES)) - 1]
    return Wait(due=context.now + dt.timedelta(minutes=wait),
                state={"attempt": attempt, "delivery": delivery, "error": problem},
                note=f"webhook attempt {attempt} failed ({problem}); next in {wait} min")


NODE_TYPES = [
    NodeType(key="notify", title=localized("通知", "Notify"), settings=NotifySettings,
             enter=notify_enter, check=notify_check, icon="bell", category="people",
             description=localized("站内通知相关人员（可按角色、按流程中的人）；可通知客户",
                                   "Tell people in-app (by role, or named in the run); "
                                   "may tell the customer")),
    NodeType(key="webhook", title=localized("外部回调", "Webhook"), settings=WebhookSettings,
             outcomes=("delivered", "failed"), enter=webhook_enter, on_timer=webhook_timer,
             check=webhook_check, icon="link", category="integration",
             description=localized("向外部系统发送签名的 JSON 请求，失败自动重试",
                                   "POST signed JSON to another system, retried on failure")),
]
