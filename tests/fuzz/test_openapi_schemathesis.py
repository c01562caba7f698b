"""Property-based fuzzing of every operation in the served OpenAPI schema (schemathesis 4).

Every operation of ``/schema/openapi.json`` is called with schemathesis-generated input, valid
and invalid, signed in as a tenant admin (session cookie and CSRF header), or as a platform
operator for the operators' routes. Operations are grouped by their OpenAPI tag; each group
gets a fresh platform with a seeded tenant. Every answer must:

* never be a 5xx, whatever the input;
* use a documented status code and content type;
* match the documented response schema (error answers too: ``ErrorOut``);
* answer invalid input with a documented 4xx and an ``ErrorOut`` body.

An operation whose schema does not document its errors yet is still held to ``ErrorOut`` and
core's error statuses (``error_body_conformance``), and ``test_every_operation_documents_its_
error_answers`` names it. ``KNOWN_BUGS`` marks groups failing for a bug outside core's API
layer as strict xfails. ``JIMU_FUZZ_EXAMPLES=200`` hunts deeper than CI's default.

The suite grows by itself: a plugin's routes appear in the schema, so they are fuzzed too.
Path ids are drawn half of the time from what the operation's collection (the path before the
id, e.g. ``GET /api/v1/followups/notes`` for ``/api/v1/followups/notes/{note_id}``) lists, so
the handlers behind the 404 are reached as well.

Requests go through httpx to the app in the test's event loop (where the platform's database
lives); hypothesis runs in a worker thread and hands each request over to that loop.
Generation is derandomized, so CI runs the same examples every time.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import os
import traceback
from collections.abc import Callable
from typing import Any

import httpx
import msgspec
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from jimu.app import create_app
from jimu.kernel import Kernel
from jimu.settings import Settings
from jimu.web.errors import ERROR_RESPONSES, ErrorOut
from jimu.web.guards import platform_operator
from litestar.routes import HTTPRoute
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

# Hypothesis notices the global ``random`` state moving while it draws; here that is the
# platform's worker threads (dramatiq, the Redis client), not the strategies.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Do not use the `random` module inside strategies")

BASE_URL = "http://testserver"
MAX_EXAMPLES = int(os.environ.get("JIMU_FUZZ_EXAMPLES", "30"))
"""Per operation; CI keeps the default (well under a minute), a deeper hunt raises it."""
# Not ``negative_data_rejection``: litestar parses queries leniently (the last of repeated
# values wins, a number is a unix time for a datetime), which that check counts as accepting
# invalid input, on every list route. Invalid input is still generated and must get a 4xx.
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]
KNOWN_BUGS: dict[str, str] = {}
"""Operation groups that fail for a bug outside core's API layer; strict, so a fix shows."""
FUZZ_SETTINGS = settings(
    max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, database=None,
    phases=(Phase.explicit, Phase.generate, Phase.shrink), print_blob=False,
    suppress_health_check=list(HealthCheck))
REQUESTS_ARGUMENTS = set(inspect.signature(requests.Request).parameters)


def _app_of_installed_plugins() -> Any:
    """The app as ``jimu_platform`` builds it; not started, so it touches no database."""
    kernel = Kernel(Settings(database_url="sqlite:///var/unused-by-the-fuzz-suite.sqlite3"))
    kernel.load_plugins()
    return create_app(kernel)


RAW_SCHEMA = _app_of_installed_plugins().openapi_schema.to_schema()
SCHEMA = schemathesis.openapi.from_dict(RAW_SCHEMA)
PROBES = ("/health", "/ready")
"""Answer outside the request scope: no sign-in, no tenant, hence no documented errors."""
METHOD_ORDER = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def _groups() -> dict[str, list[Any]]:
    """Operations by their first tag: each group shares one platform (setting one up costs
    more than fuzzing an operation); reads go first, deletes last."""
    groups: dict[str, list[Any]] = {}
    for result in SCHEMA.get_all_operations():
        operation = result.ok()
        tags = operation.definition.raw.get("tags") or ["untagged"]
        groups.setdefault(tags[0], []).append(operation)
    for operations in groups.values():
        operations.sort(key=lambda op: (METHOD_ORDER.index(op.method.upper()), op.path))
    return groups


GROUPS = _groups()


# ---------------------------------------------------------------------- who calls, with what ids


def _handler(app: Any, method: str, path: str) -> Any:
    for route in app.routes:
        if isinstance(route, HTTPRoute) and route.path_format == path:
            for handler in route.route_handlers:
                if method.upper() in handler.http_methods:
                    return handler
    raise AssertionError(f"{method} {path} is in the schema but not among the app's routes")


def _operator_only(handler: Any) -> bool:
    return any(platform_operator in (layer.guards or []) for layer in handler.ownership_layers)


KEYS = ("id", "code", "name", "key")
"""What identifies an item of a collection, by preference (plugins by name, regions by code)."""


def _ids(body: Any) -> list[Any]:
    items = body.get("items", []) if isinstance(body, dict) else body
    found = []
    for item in items if isinstance(items, list) else []:
        key = next((k for k in KEYS if isinstance(item, dict) and k in item), None)
        if key is not None:
            found.append(item[key])
    return found


async def _known_values(client: httpx.AsyncClient, path: str) -> dict[str, list[Any]]:
    """For each ``{name}`` in ``path``: the ids its collection lists (may be empty)."""
    known: dict[str, list[Any]] = {}
    segments = path.split("/")
    for index, segment in enumerate(segments):
        if segment.startswith("{"):
            collection = "/".join(segments[:index])
            response = await client.get(collection) if "{" not in collection else None
            ok = response is not None and response.status_code == 200
            known[segment.strip("{}")] = _ids(response.json()) if ok else []
    return known


async def _seed(platform: Any, admin: httpx.AsyncClient) -> None:
    """A little of everything, so that listed ids exist for every collection."""

    async def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = await admin.post(path, json=body)
        assert response.status_code in (200, 201), f"seeding {path}: {response.text}"
        return response.json()  # type: ignore[no-any-return]

    partner = await post("/api/v1/partners", {"code": "FZ-1", "name": "Fuzz dealer",
                                              "region_code": "310115"})
    customer = await post("/api/v1/customers", {"name": "Fuzz customer", "phone": "13800138000",
                                                "partner_id": partner["id"]})
    await post("/api/v1/customers", {"name": "Second customer"})
    await post("/api/v1/partners", {"code": "FZ-2", "name": "Fuzz store", "kind": "store",
                                    "parent_id": partner["id"]})
    await post("/api/v1/roles", {"name": "fuzz_role", "title_zh": "测试", "title_en": "Fuzz",
                                 "permissions": ["customers.read"]})
    await post("/api/v1/tokens", {"name": "fuzz", "scopes": ["customers.read"]})
    if any(r.path_format == "/api/v1/followups/notes" for r in platform.app.routes):
        await post("/api/v1/followups/notes", {"customer_id": customer["id"], "body": "called"})
    await platform.run_jobs()


# ---------------------------------------------------------------------- the fuzzing


def _strategy(operation: Any, known: dict[str, list[Any]]) -> st.SearchStrategy[Any]:
    positive = operation.as_strategy(generation_mode=GenerationMode.POSITIVE)
    if known:
        # Valid cases take a listed id half of the time; invalid ones keep theirs, since
        # replacing a deliberately invalid id would make the case valid.
        def with_known_ids(case: Any, use_known: bool, pick: int) -> Any:
            if use_known:
                for name, values in known.items():
                    if values:
                        case.path_parameters[name] = values[pick % len(values)]
            return case

        positive = st.builds(with_known_ids, positive, st.booleans(),
                             st.integers(min_value=0, max_value=50))
    try:
        negative = operation.as_strategy(generation_mode=GenerationMode.NEGATIVE)
    except Exception:  # nothing to negate (no parameters, no body)
        return positive
    return st.one_of(positive, negative)


def _sender(client: httpx.AsyncClient, loop: asyncio.AbstractEventLoop
            ) -> Callable[[Any], httpx.Response]:
    def send(case: Any) -> httpx.Response:
        arguments = case.as_transport_kwargs(base_url=BASE_URL)
        prepared = requests.Request(**{k: v for k, v in arguments.items()
                                       if k in REQUESTS_ARGUMENTS}).prepare()
        call = client.request(prepared.method or "GET", prepared.url or "",
                              headers=dict(prepared.headers), content=prepared.body)
        return asyncio.run_coroutine_threadsafe(call, loop).result(timeout=120)

    return send


# ---------------------------------------------------------------------- error answers


def _documents_errors(operation: Any) -> bool:
    """Whether the schema gives ``ErrorOut`` as the body of the operation's error answers."""
    responses = operation.definition.raw.get("responses", {})
    return all(
        "ErrorOut" in json.dumps(responses.get(str(status), {}))
        for status in ERROR_RESPONSES)


def error_body_conformance(ctx: Any, response: Any, case: Any) -> bool | None:
    """For operations whose schema does not document their errors yet: what core documents for
    every error answer (status in ``ERROR_RESPONSES``, ``ErrorOut`` body) must hold anyway."""
    if response.status_code < 400 or response.status_code >= 500:
        return None
    assert response.status_code in ERROR_RESPONSES, \
        f"status {response.status_code} is not one of {sorted(ERROR_RESPONSES)}"
    try:
        msgspec.json.decode(response.content, type=ErrorOut)
    except msgspec.ValidationError as exc:
        raise AssertionError(f"the error body is not an ErrorOut: {exc}") from None
    return True


def success_conformance(ctx: Any, response: Any, case: Any) -> bool | None:
    """Status and schema conformance, for the answers below 400 only."""
    if response.status_code >= 400:
        return None
    status_code_conformance(ctx, response, case)
    return response_schema_conformance(ctx, response, case)


def _checks(operation: Any) -> list[Any]:
    if _documents_errors(operation):
        return CHECKS
    # Documented with litestar's own error schema, not the one the app answers with: the
    # schema is wrong (see test_every_operation_documents_its_error_answers), the body is not.
    return [not_a_server_error, content_type_conformance, response_headers_conformance,
            success_conformance, error_body_conformance]


# ---------------------------------------------------------------------- the tests


def _fuzzer(strategy: st.SearchStrategy[Any], send: Callable[[Any], httpx.Response],
            checks: list[Any]) -> Callable[[], None]:
    @FUZZ_SETTINGS
    @given(case=strategy)
    def fuzz(case: Any) -> None:
        case.validate_response(send(case), checks=checks)

    return fuzz  # type: ignore[no-any-return]


async def test_fuzzed_schema_is_the_served_one(jimu_platform):
    response = await jimu_platform.client().get("/schema/openapi.json")
    assert response.status_code == 200
    served = json.loads(response.text)
    assert served == json.loads(json.dumps(RAW_SCHEMA, default=str)), \
        "the fuzz suite must fuzz the schema the app serves"


def test_every_operation_documents_its_error_answers():
    undocumented = [op.label for operations in GROUPS.values() for op in operations
                    if op.path not in PROBES and not _documents_errors(op)]
    assert not undocumented, (
        "these operations do not document their error answers (ErrorOut for "
        f"{sorted(ERROR_RESPONSES)}); use jimu.web.errors.document_errors: {undocumented}")


def _failure_report(label: str, error: BaseException) -> str:
    text = str(error) if isinstance(error, FailureGroup) else "".join(
        traceback.format_exception(error))
    return f"{'=' * 20} {label}\n{text}"


@pytest.mark.parametrize("tag", [
    pytest.param(tag, marks=pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[tag]))
    if tag in KNOWN_BUGS else tag for tag in sorted(GROUPS)])
async def test_operations_survive_fuzzing(jimu_platform, tag):
    platform = jimu_platform
    tenant = await platform.make_tenant(plugins=sorted(platform.kernel.plugins.plugins))
    admin = await platform.login(tenant.admin_username)
    await _seed(platform, admin)
    operator: httpx.AsyncClient | None = None
    loop = asyncio.get_running_loop()
    failures = []
    for operation in GROUPS[tag]:
        client = admin
        if _operator_only(_handler(platform.app, operation.method, operation.path)):
            if operator is None:
                await platform.make_user(None, "fuzz-operator")
                operator = await platform.login("fuzz-operator")
            client = operator
        strategy = _strategy(operation, await _known_values(client, operation.path))
        try:
            await asyncio.to_thread(_fuzzer(strategy, _sender(client, loop),
                                            _checks(operation)))
        except (Exception, BaseExceptionGroup) as error:
            failures.append(_failure_report(operation.label, error))
        # An operation may have ended the session (sign-out, password change).
        if (await admin.get("/api/v1/auth/me")).status_code == 401:
            admin = await platform.login(tenant.admin_username)
    assert not failures, "\n\n".join(failures)
