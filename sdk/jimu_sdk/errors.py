"""The one error hierarchy of Jimu.

Services (core and plugins alike) raise these; the web layer maps each class to an HTTP status.
Every message says what was wrong and, where it can, what to do.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class JimuError(Exception):
    """Base class: a failure the user can understand."""

    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, *, field: str | None = None,
                 params: Mapping[str, Any] | None = None, **extra: Any) -> None:
        """``message`` may hold ``%(name)s`` placeholders filled from ``params``; the UI then
        translates the unfilled text (a catalog id) and fills it in the user's language."""
        text = message % dict(params) if params else message
        super().__init__(text)
        self.message = text
        self.message_id = message
        self.params = dict(params or {})
        self.field = field
        self.extra = extra

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.code, "message": self.message}
        if self.field:
            body["field"] = self.field
        body.update(self.extra)
        return body


class ValidationFailed(JimuError):
    """Input does not satisfy a rule; ``errors`` lists each field and its problem."""

    status_code = 422
    code = "validation_failed"

    def __init__(self, message: str, *, errors: list[dict[str, str]] | None = None,
                 field: str | None = None, params: Mapping[str, Any] | None = None) -> None:
        super().__init__(message, field=field, params=params)
        self.errors = errors or ([{"field": field, "message": self.message}] if field else [])

    def to_dict(self) -> dict[str, Any]:
        body = super().to_dict()
        body["errors"] = self.errors
        return body


class NotFound(JimuError):
    """The thing does not exist for this tenant (another tenant's id is also 'not found')."""

    status_code = 404
    code = "not_found"


class Conflict(JimuError):
    """The request clashes with the current state (duplicate, dependency, incompatibility)."""

    status_code = 409
    code = "conflict"


class NotAuthenticated(JimuError):
    status_code = 401
    code = "not_authenticated"


class PermissionDenied(JimuError):
    status_code = 403
    code = "permission_denied"


class PricingError(JimuError):
    """A money path could not produce a trustworthy answer; it fails closed."""

    status_code = 409
    code = "pricing_failed"


class TenantSuspended(JimuError):
    status_code = 403
    code = "tenant_suspended"
