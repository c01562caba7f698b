"""Languages of the UI: gettext catalogs (core's and each plugin's) and the current locale.

Message ids are the English text. Core's catalogs are ``core/jimu/locale/<locale>/LC_MESSAGES/
*.po`` (several files, one per area, merged); a plugin ships its own through
``register_translations`` — a directory of the same shape, or a ``{locale: {id: text}}``
mapping. Core's text wins over a plugin's for the same id. ``scripts/i18n.py`` extracts the
ids from templates and code into the catalogs; ``tests/meta/test_i18n.py`` fails when an id
is missing from a catalog or untranslated.
"""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Callable, Iterable, Mapping
from gettext import c2py
from pathlib import Path
from typing import Any

from babel import Locale
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po

LOCALES = ("zh-CN", "en")
DEFAULT_LOCALE = "zh-CN"
CORE_CATALOGS = Path(__file__).parent / "locale"

current_locale: contextvars.ContextVar[str] = contextvars.ContextVar("jimu_locale",
                                                                      default=DEFAULT_LOCALE)
current_catalogs: contextvars.ContextVar[Catalogs | None] = contextvars.ContextVar(
    "jimu_catalogs", default=None)


def N_(message: str) -> str:
    """Mark a message for extraction where it is defined; translate it where it is shown."""
    return message


def gettext(message: str) -> str:
    """``message`` in the current request's language (unchanged outside a request)."""
    catalogs = current_catalogs.get()
    return catalogs.gettext(message) if catalogs is not None else message


def gettext_dir_name(locale: str) -> str:
    """``zh-CN`` → ``zh_CN`` (the folder name gettext tools use)."""
    return locale.replace("-", "_")


def babel_locale(locale: str) -> Locale:
    return Locale.parse(gettext_dir_name(locale))


def read_catalog_dir(directory: Path | str, locale: str) -> dict[str, Any]:
    """Every ``*.po`` of one locale under ``directory/<locale>/LC_MESSAGES/``, merged.

    Values are the text, or for a plural message a tuple of forms keyed by its singular id.
    """
    messages: dict[str, Any] = {}
    folder = Path(directory) / gettext_dir_name(locale) / "LC_MESSAGES"
    for po in sorted(folder.glob("*.po")):
        with po.open("rb") as handle:
            catalog = read_po(handle, locale=gettext_dir_name(locale))
        for message in catalog:
            if not message.id or message.fuzzy:
                continue
            if isinstance(message.id, tuple | list):
                forms = tuple(message.string or ())
                if any(forms):
                    messages[message.id[0]] = forms
            elif message.string:
                messages[message.id] = message.string
    return messages


class Catalogs:
    """The merged messages of every locale."""

    def __init__(self) -> None:
        self.messages: dict[str, dict[str, Any]] = {locale: {} for locale in LOCALES}

    @classmethod
    def load(cls, plugin_catalogs: Iterable[Any] = ()) -> Catalogs:
        catalogs = cls()
        for source in plugin_catalogs:
            catalogs.add(source)
        catalogs.add(CORE_CATALOGS)  # last: core wins
        return catalogs

    def add(self, source: Any) -> None:
        """Merge a catalog directory or a ``{locale: {id: text}}`` mapping."""
        for locale in LOCALES:
            if isinstance(source, str | Path):
                self.messages[locale].update(read_catalog_dir(source, locale))
            elif isinstance(source, Mapping):
                self.messages[locale].update(source.get(locale, {}))

    def gettext(self, message: str, locale: str | None = None) -> str:
        found = self.messages.get(locale or current_locale.get(), {}).get(message)
        if isinstance(found, tuple):
            return found[0] or message
        return found or message

    def ngettext(self, singular: str, plural: str, n: int, locale: str | None = None) -> str:
        locale = locale or current_locale.get()
        found = self.messages.get(locale, {}).get(singular)
        if isinstance(found, tuple) and found:
            index = plural_index(locale, n)
            return found[min(index, len(found) - 1)] or (singular if n == 1 else plural)
        if isinstance(found, str):  # a language without plural forms (Chinese)
            return found
        return singular if n == 1 else plural


@functools.cache
def _plural_rule(locale: str) -> Callable[[int], int]:
    return c2py(get_plural(gettext_dir_name(locale)).plural_expr)


def plural_index(locale: str, n: int) -> int:
    """Which plural form of a catalog entry ``n`` takes (gettext's rule for the locale)."""
    return int(_plural_rule(locale)(n))


def pick_locale(*candidates: str | None, accept_language: str | None = None) -> str:
    """The first supported candidate, else the best match of ``Accept-Language``."""
    for candidate in candidates:
        if candidate in LOCALES:
            return candidate
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh-CN"
        if tag.startswith("en"):
            return "en"
    return DEFAULT_LOCALE


def localized_text(text: Mapping[str, str] | str | None, locale: str | None = None) -> str:
    """Pick the current locale's string of a ``Localized`` value."""
    if text is None:
        return ""
    if isinstance(text, str):
        return text
    locale = locale or current_locale.get()
    return text.get(locale) or text.get(DEFAULT_LOCALE) or next(iter(text.values()), "")
