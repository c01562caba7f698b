"""Keep the UI's gettext catalogs in step with the templates and code.

    python scripts/i18n.py            # add new message ids to core's catalogs (and plugins')
    python scripts/i18n.py --check    # exit 1 listing ids missing or untranslated

Message ids are the English text: ``{{ _("...") }}`` and ``ngettext`` in templates, ``_()`` and
``N_()`` in Python. For each catalog root (core's ``core/jimu/locale`` and each first-party
plugin's ``<package>/locale``) the ids found under its package go into ``messages.po`` of
``en`` (text = id) and ``zh_CN`` (to be translated). Ids no longer used are dropped.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
METHODS = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
OPTIONS = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n", "trim_blocks": "true",
                                    "lstrip_blocks": "true"}}
KEYWORDS = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2)}
LOCALES = ("en", "zh_CN")


def roots() -> list[tuple[Path, Path]]:
    """(source package, its locale folder) for core and each first-party plugin with one."""
    found = [(ROOT / "core" / "jimu", ROOT / "core" / "jimu" / "locale")]
    for locale_dir in sorted(ROOT.glob("plugins/*/*/locale")):
        found.append((locale_dir.parent, locale_dir))
    return found


def extract(package: Path) -> dict[str, tuple[str, ...] | str]:
    messages: dict[str, tuple[str, ...] | str] = {}
    for _file, _line, message, _comments, _context in extract_from_dir(
            package, METHODS, keywords=KEYWORDS, options_map=OPTIONS,
            comment_tags=(), strip_comment_tags=True):
        if isinstance(message, tuple):
            if message[0]:
                messages[message[0]] = message
        elif message:
            messages[message] = message
    return messages


def shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def catalog_path(locale_dir: Path, locale: str) -> Path:
    return locale_dir / locale / "LC_MESSAGES" / "messages.po"


def sync(package: Path, locale_dir: Path, check: bool) -> list[str]:
    ids = extract(package)
    problems: list[str] = []
    for locale in LOCALES:
        path = catalog_path(locale_dir, locale)
        old = Catalog(locale=locale)
        if path.exists():
            with path.open("rb") as handle:
                old = read_po(handle, locale=locale)
        new = Catalog(locale=locale, project="Jimu", fuzzy=False)
        for key, message in sorted(ids.items()):
            existing = old.get(message)
            string = existing.string if existing else None
            if locale == "en" and not _filled(string):
                string = message if isinstance(message, str) else (message[0], message[1])
            new.add(message, string or ("" if isinstance(message, str) else ("", "")))
            if not _filled(string):
                problems.append(f"{shown(path)}: untranslated {key!r}")
        unchanged = path.exists() and _entries(old) == _entries(new)
        if not check and not unchanged:  # rewriting would only move the header's date
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("wb") as handle:
                write_po(handle, new, width=100, omit_header=False, sort_output=True)
        else:
            stale = {m.id if isinstance(m.id, str) else m.id[0] for m in old if m.id} - set(ids)
            problems += [f"{shown(path)}: unused {s!r}" for s in sorted(stale)]
    return problems


def _entries(catalog: Catalog) -> dict[object, object]:
    return {str(m.id): m.string for m in catalog if m.id}


def _filled(string: object) -> bool:
    if isinstance(string, tuple | list):
        return bool(string) and all(string)
    return bool(string)


def main(argv: list[str]) -> int:
    check = "--check" in argv
    problems: list[str] = []
    for package, locale_dir in roots():
        problems += sync(package, locale_dir, check)
    for problem in problems:
        print(problem)
    if check and problems:
        print(f"{len(problems)} problems; run `python scripts/i18n.py` and translate",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
