"""What admin page handlers share: rendering, forms, flashes, error pages, schema forms."""

from __future__ import annotations

import html
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import msgspec
from jimu_sdk.errors import JimuError
from jimu_sdk.web import form_data  # noqa: F401 - core's pages import it from here
from litestar import Request, Response
from litestar.datastructures import Cookie
from litestar.response import Redirect, Template

from jimu.i18n import N_, current_locale, gettext
from jimu.web.validation_messages import humanize_validation_message

if TYPE_CHECKING:
    from litestar import Litestar

    from jimu.kernel import Kernel

FLASH_COOKIE = "jimu_flash"


def kernel_of(request: Request) -> Kernel:
    return request.app.state.kernel  # type: ignore[no-any-return]


def _(message: str, **params: Any) -> str:
    """Translate a UI message of core into the request's language (ids are the English text)."""
    text = gettext(message)
    return text % params if params else text


def page(template_name: str, /, *, status: int = 200, cookies: list[Cookie] | None = None,
         **context: Any) -> Template:
    return Template(template_name, context=context, status_code=status, cookies=cookies or [])


def redirect(location: str, *, flash: str | None = None) -> Redirect:
    """303 to ``location``; ``flash`` (a message id) shows once on the next page."""
    cookies = []
    if flash:
        cookies.append(Cookie(key=FLASH_COOKIE, value=urllib.parse.quote(flash), path="/",
                              httponly=True, samesite="lax", max_age=60))
    return Redirect(location, status_code=303, cookies=cookies)


def take_flash(request: Request) -> str:
    raw = request.cookies.get(FLASH_COOKIE)
    return urllib.parse.unquote(raw) if raw else ""


def flash_text(request: Request) -> str:
    """The flash message for this page, translated (empty when there is none)."""
    message = take_flash(request)
    return _(message) if message else ""


def safe_next(target: str | None, default: str = "/admin/") -> str:
    """Only same-site paths: ``next=//evil.example`` or ``https://…`` falls back."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target




@dataclass
class FormState:
    """A form's values and its errors per field, for re-rendering after a failed submit."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    message: str = ""

    @classmethod
    def from_error(cls, values: Mapping[str, Any], exc: JimuError, *,
                   choices: Mapping[str, Sequence[str]] | None = None) -> FormState:
        """``choices``: the allowed values of select fields, named when one is missed."""
        errors: dict[str, str] = {}
        for item in getattr(exc, "errors", []) or []:
            name = item.get("field") or ""
            errors[name] = translate_problem(item.get("message", ""),
                                             choices=(choices or {}).get(name, ()))
        if exc.field and exc.field not in errors:
            errors[exc.field] = error_text(exc)
        return cls(values=dict(values), errors=errors,
                   message="" if errors else error_text(exc))


def translate_problem(message: str, *, choices: Sequence[str] = ()) -> str:
    """A service's English message in the request's language when the catalog knows it.

    msgspec's validation messages (``Expected `int` >= 1``) become plain sentences.
    """
    if not message:
        return message
    humane = humanize_validation_message(message, choices=choices)
    return humane if humane != message else _(message)


def error_text(exc: JimuError) -> str:
    """A service's error in the user's language: its message id translated, then filled with
    its parameters (``JimuError(N_("partner %(id)s not found"), params={"id": 3})``)."""
    if not exc.params:
        return translate_problem(exc.message)
    try:
        return gettext(exc.message_id) % exc.params
    except (KeyError, TypeError, ValueError):  # a translation with a broken placeholder
        return exc.message


# --------------------------------------------------------------------------- schema forms


@dataclass(frozen=True)
class SchemaField:
    name: str
    label: str
    help: str
    kind: str  # text | number | integer | checkbox | select | lines | json
    required: bool
    default: Any
    choices: tuple[str, ...] = ()
    minimum: Any = None
    maximum: Any = None


def schema_fields(schema: type[msgspec.Struct] | None) -> list[SchemaField]:
    """Form fields of a plugin's settings struct, from its JSON schema (labels translated)."""
    if schema is None:
        return []
    _schemas, components = msgspec.json.schema_components([schema])
    definition = components[schema.__name__]
    required = set(definition.get("required", []))
    fields: list[SchemaField] = []
    for name, prop in definition.get("properties", {}).items():
        prop = _resolve(prop, components)
        kind = {"integer": "integer", "number": "number", "boolean": "checkbox",
                "string": "text", "array": "lines"}.get(prop.get("type", ""), "json")
        if "enum" in prop:
            kind = "select"
        if prop.get("format") == "decimal":
            kind = "number"
        title = prop.get("title") or name.replace("_", " ").capitalize()
        help_text = prop.get("description") or ""
        fields.append(SchemaField(
            name=name, label=_(title), help=_(help_text) if help_text else "",
            kind=kind, required=name in required, default=prop.get("default"),
            choices=tuple(str(c) for c in prop.get("enum", ())),
            minimum=prop.get("minimum"), maximum=prop.get("maximum")))
    return fields


def _resolve(prop: Mapping[str, Any], components: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = prop.get("$ref")
    if ref:
        return components[ref.rsplit("/", 1)[-1]]
    if "anyOf" in prop:  # Optional[...]: the non-null branch
        branches = [b for b in prop["anyOf"] if b.get("type") != "null"]
        if len(branches) == 1:
            return {**_resolve(branches[0], components),
                    **{k: v for k, v in prop.items() if k != "anyOf"}}
    return prop


def coerce_schema_form(fields: list[SchemaField], data: Mapping[str, Any]
                       ) -> tuple[dict[str, Any], dict[str, str]]:
    """Turn submitted strings into the JSON values the schema expects, with per-field errors."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for schema_field in fields:
        raw = data.get(schema_field.name)
        if schema_field.kind == "checkbox":
            values[schema_field.name] = raw not in (None, "", "0", "false", "off")
            continue
        text = raw.strip() if isinstance(raw, str) else raw
        if text in (None, ""):
            if schema_field.required:
                errors[schema_field.name] = _("This field is required.")
            continue
        try:
            if schema_field.kind == "integer":
                values[schema_field.name] = int(text)
            elif schema_field.kind == "number":
                values[schema_field.name] = (text if schema_field.default is None
                                             or isinstance(schema_field.default, str)
                                             else float(text))
                float(text)  # checks it is a number at all
            elif schema_field.kind == "lines":
                values[schema_field.name] = [line.strip() for line in str(text).splitlines()
                                             if line.strip()]
            elif schema_field.kind == "json":
                values[schema_field.name] = msgspec.json.decode(str(text).encode())
            else:
                values[schema_field.name] = text
        except (ValueError, msgspec.DecodeError):
            errors[schema_field.name] = {
                "integer": _("Enter a whole number."), "number": _("Enter a number."),
                "json": _("Enter valid JSON."),
            }.get(schema_field.kind, _("This value is not valid."))
    return values, errors


# --------------------------------------------------------------------------- error pages

STATUS_TITLES = {
    400: N_("The request could not be understood"),
    403: N_("You cannot do this"),
    404: N_("Page not found"),
    409: N_("This clashes with the current state"),
    413: N_("The form is too large"),
    422: N_("Some values are not valid"),
    429: N_("Too many attempts"),
    500: N_("Something went wrong"),
}
# Messages of services that pages show as they are; listed so the catalogs carry them.
SERVICE_MESSAGES = (
    N_("wrong username or password"),
    N_("this account is disabled; ask your administrator"),
    N_("this organisation's account is suspended"),
    N_("this organisation's account is suspended; contact the platform operator"),
    N_("an unexpected error occurred; quote the request id when you report it"),
    N_("unknown setting"),
    N_("is required"),
    N_("You have signed out."),
    N_("Your password was changed. Other sessions were signed out."),
    N_("Settings saved."),
)


def error_page_body(app: Litestar, status: int, exc: JimuError, request_id: str) -> str:
    """The themed error page; plain HTML if even the template fails."""
    title = _(STATUS_TITLES.get(status, "Something went wrong"))
    csrf = bool(getattr(exc, "extra", {}).get("csrf"))
    message = (_("Your form expired or came from another page. Go back, reload the page and "
                 "submit it again.") if csrf else error_text(exc))
    if status == 404:
        message = _("There is no such page here, or it belongs to a plugin that is not "
                    "switched on.")
    try:
        engine = app.template_engine
        assert engine is not None
        return engine.get_template("core/error.html").render(  # type: ignore[no-any-return]
            status=status, title=title, message=message, request_id=request_id, csrf=csrf)
    except Exception:
        return (f"<!doctype html><html lang='{current_locale.get()}'><title>{status}</title>"
                f"<h1>{html.escape(title)}</h1><p>{html.escape(message)}</p>"
                f"<p><a href='/admin/'>&larr;</a></p>")


def html_error_response(request: Request, status: int, exc: JimuError) -> Response[Any]:
    if status == 401:
        return Redirect("/login?next=" + urllib.parse.quote(request.url.path),
                        status_code=303)
    context = request.scope.get("state", {}).get("jimu")
    body = error_page_body(request.app, status, exc, context.request_id if context else "")
    return Response(body, status_code=status, media_type="text/html")
