"""The real Jimu app with candidate core changes patched in (``api_list.py --what-if``).

Core is not edited: this module patches the running app only, to measure what a change in core
would buy. ``JIMU_WHATIF`` lists the changes, comma-separated:

* ``token-touch``: write an API token's ``last_used_at`` at most once a minute instead of on
  every request. Every request with the same token runs ``UPDATE core_api_token …`` inside its
  transaction, so concurrent requests queue on that row's lock until each commits.
* ``no-idle-relay``: do not start an outbox relay pass after a transaction that emitted no event
  (today every request, even a GET, is followed by one: BEGIN, SET ROLE, set_config,
  SELECT … FOR UPDATE SKIP LOCKED, COMMIT).
* ``quiet-log``: no INFO line per request (litestar's default logging config logs every
  request through a queue and a listener thread).
"""

from __future__ import annotations

import datetime as dt
import os

from jimu.db.tables import ApiToken, User
from jimu.services import auth
from jimu.services.auth import Principal, token_digest
from jimu.web import request_scope
from jimu_sdk.errors import NotAuthenticated

TOUCH_EVERY = dt.timedelta(minutes=1)
CHANGES = {c.strip() for c in os.environ.get("JIMU_WHATIF", "").split(",") if c.strip()}


async def principal_from_token(kernel, token: str) -> Principal:
    """``jimu.services.auth.principal_from_token`` with a throttled ``last_used_at`` write."""
    row = await ApiToken.select().output(load_json=True).where(
        ApiToken.token_hash == token_digest(token)).first()
    if row is None:
        raise NotAuthenticated("unknown API token")
    now = kernel.clock.now()
    if row["revoked_at"] is not None:
        raise NotAuthenticated("this API token was revoked")
    if row["expires_at"] is not None and row["expires_at"] <= now:
        raise NotAuthenticated("this API token has expired")
    creator = await User.select(User.role, User.partner_id, User.username, User.is_active
                                ).where(User.id == row["created_by"]).first()
    if creator is None or not creator["is_active"]:
        raise NotAuthenticated("the user who created this API token is no longer active")
    if row["last_used_at"] is None or now - row["last_used_at"] >= TOUCH_EVERY:
        await ApiToken.update({ApiToken.last_used_at: now}).where(ApiToken.id == row["id"])
    return Principal(user_id=row["created_by"], username=creator["username"],
                     tenant_id=row["tenant_id"], role=creator["role"],
                     partner_id=creator["partner_id"], is_platform_operator=False, via="token",
                     token_scopes=frozenset(row["scopes"]))


if "token-touch" in CHANGES:
    request_scope.principal_from_token = principal_from_token  # type: ignore[assignment]
    auth.principal_from_token = principal_from_token  # type: ignore[assignment]

from jimu.asgi import app  # noqa: E402

if "no-idle-relay" in CHANGES:
    from jimu.services.platform import KernelServices

    kernel = app.state.kernel
    real_nudge = type(kernel.jobs).nudge_relay
    real_emit = KernelServices.emit
    pending = [False]

    async def emit(self, event_type, payload):  # every event goes through the outbox here
        pending[0] = True
        return await real_emit(self, event_type, payload)

    def nudge_relay(self) -> None:
        if pending[0]:
            pending[0] = False
            real_nudge(self)

    KernelServices.emit = emit  # type: ignore[method-assign]
    type(kernel.jobs).nudge_relay = nudge_relay  # type: ignore[method-assign]

if "quiet-log" in CHANGES:
    import logging

    logging.getLogger("jimu.http").setLevel(logging.WARNING)
