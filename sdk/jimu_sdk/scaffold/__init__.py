"""``jimu-sdk new <slug>``: scaffold a plugin distribution that works from its first commit.

The new directory holds an installable package (entry point ``jimu.plugins``), a tenant-owned
table with its initial migration, two routes and an admin page, a template, a zh-CN/en message
catalog, a runtime hook (``customer_facts``) and tests on the SDK's fixtures whose first test
checks the plugin is installed. The files come from ``template/``: ``string.Template`` text
(``${slug}`` …) under paths where ``__package__`` and ``__slug__`` stand for the names.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from string import Template

TEMPLATE_DIR = Path(__file__).parent / "template"
TEMPLATE_SUFFIX = ".tmpl"

SLUG_PATTERN = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")
MAX_SLUG_LENGTH = 40
"""Keeps ``<slug>_note_<column>`` index names under PostgreSQL's 63-character limit."""

RESERVED_SLUGS = frozenset(
    {
        # distributions that exist already: jimu-core, jimu-sdk, the workspace root
        "core",
        "sdk",
        "workspace",
        # core's own routes under /api/v1/, where a plugin's routes would be mounted
        "audit",
        "auth",
        "customers",
        "flows",
        "notifications",
        "partners",
        "plugins",
        "pricing",
        "regions",
        "roles",
        "tenants",
        "tokens",
        "users",
    }
)

CORE_API_VERSION = "1.0"
"""The core API this SDK release was written against; used when core is not importable."""

MIGRATION_ID = "2026-11-23T20:42:41:805371"
"""The initial migration's ID: the one piccolo gave the known-good migration the template
was made from (its file name in ``template/`` spells the same time)."""

MAX_TEXT_LENGTH = 80


class ScaffoldError(Exception):
    """The plugin cannot be created; the message says why and what to do instead."""


@dataclass(frozen=True)
class PluginSpec:
    slug: str
    title_zh: str
    title_en: str
    author: str

    @property
    def package(self) -> str:
        return f"jimu_{self.slug}"

    @property
    def distribution(self) -> str:
        return f"jimu-{self.slug.replace('_', '-')}"


def check_slug(slug: str) -> str:
    """Return ``slug`` if it can name a plugin; raise :class:`ScaffoldError` saying why not."""
    if not SLUG_PATTERN.match(slug):
        raise ScaffoldError(
            f"invalid plugin slug {slug!r}: use snake_case — lowercase letters and digits, "
            "words joined by single underscores, starting with a letter (e.g. visit_notes)"
        )
    if len(slug) > MAX_SLUG_LENGTH:
        raise ScaffoldError(
            f"invalid plugin slug {slug!r}: use at most {MAX_SLUG_LENGTH} "
            f"characters (it has {len(slug)})"
        )
    if slug in RESERVED_SLUGS:
        raise ScaffoldError(
            f"invalid plugin slug {slug!r}: it is reserved by Jimu core; choose another name"
        )
    return slug


def _check_text(label: str, text: str) -> str:
    text = text.strip()
    if not text:
        raise ScaffoldError(f"{label} is empty; give a short name")
    if len(text) > MAX_TEXT_LENGTH:
        raise ScaffoldError(
            f"{label} is {len(text)} characters long; keep it within {MAX_TEXT_LENGTH}"
        )
    if not text.isprintable():
        raise ScaffoldError(f"{label} {text!r} contains control characters")
    return text


def core_api_version() -> str:
    """The installed core's API version, or the one this SDK targets when core is absent."""
    try:
        from jimu.version import CORE_API_VERSION as installed
    except ImportError:
        return CORE_API_VERSION
    return str(installed)


def requires_core_spec() -> str:
    """Any core API of the current major version, e.g. ``>=1.0,<2``."""
    major = int(core_api_version().split(".")[0])
    return f">={major}.0,<{major + 1}"


def _sdk_version() -> str:
    from jimu_sdk import __version__

    return __version__


def _literal(text: str) -> str:
    """A double-quoted string literal valid in Python, TOML and JSON alike."""
    return json.dumps(text, ensure_ascii=False)


def template_values(spec: PluginSpec) -> dict[str, str]:
    return {
        "slug": spec.slug,
        "package": spec.package,
        "dist": spec.distribution,
        "title_zh": spec.title_zh,
        "title_en": spec.title_en,
        "author": spec.author,
        "title_zh_lit": _literal(spec.title_zh),
        "title_en_lit": _literal(spec.title_en),
        "author_lit": _literal(spec.author),
        "requires_core": requires_core_spec(),
        "sdk_version": _sdk_version(),
        "migration_id": MIGRATION_ID,
    }


def _target_path(relative: Path, spec: PluginSpec) -> Path:
    parts = [
        part.replace("__package__", spec.package).replace("__slug__", spec.slug)
        for part in relative.parts
    ]
    parts[-1] = parts[-1].removesuffix(TEMPLATE_SUFFIX)
    return Path(*parts)


def render(spec: PluginSpec) -> dict[Path, str]:
    """Every file of the new plugin: its path inside the plugin directory and its text."""
    values = template_values(spec)
    files: dict[Path, str] = {}
    for source in sorted(TEMPLATE_DIR.rglob(f"*{TEMPLATE_SUFFIX}")):
        text = source.read_text(encoding="utf-8")
        target = _target_path(source.relative_to(TEMPLATE_DIR), spec)
        try:
            files[target] = Template(text).substitute(values)
        except (KeyError, ValueError) as exc:  # a broken template is a bug in the SDK
            raise RuntimeError(f"scaffold template {source} is invalid: {exc!r}") from exc
    return files


def create_plugin(
    slug: str,
    directory: Path | str = ".",
    *,
    title_zh: str | None = None,
    title_en: str | None = None,
    author: str | None = None,
) -> Path:
    """Write a new plugin distribution to ``<directory>/<slug>/`` and return that path."""
    check_slug(slug)
    default_title = slug.replace("_", " ").title()
    spec = PluginSpec(
        slug=slug,
        title_en=_check_text("the English title", title_en or default_title),
        title_zh=_check_text("the Chinese title", title_zh or title_en or default_title),
        author=_check_text("the author", author or _default_author()),
    )
    parent = Path(directory)
    if parent.exists() and not parent.is_dir():
        raise ScaffoldError(f"{parent} is a file, not a directory; pass another --dir")
    root = parent / slug
    if root.exists():
        raise ScaffoldError(
            f"{root} already exists; remove it or pass another --dir "
            "(jimu-sdk new never overwrites files)"
        )
    files = render(spec)
    root.mkdir(parents=True)
    try:
        for relative, text in files.items():
            path = root / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    return root


def _default_author() -> str:
    """``git config user.name`` when git knows it, else a placeholder to edit."""
    try:
        result = subprocess.run(
            ["git", "config", "user.name"], capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return "Anonymous"
    return result.stdout.strip() or "Anonymous"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="jimu-sdk", description="Tools for Jimu plugin authors.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    new = commands.add_parser(
        "new",
        help="create a new plugin distribution",
        description="Create <dir>/<slug>/: an installable Jimu plugin with a table, routes, "
        "a template, translations, a hook and tests.",
    )
    new.add_argument("slug", help="the plugin's name in snake_case, e.g. visit_notes")
    new.add_argument(
        "--dir",
        type=Path,
        default=Path("."),
        help="where to create the plugin directory (default: here)",
    )
    new.add_argument("--title-zh", help="Chinese title (default: the English title)")
    new.add_argument("--title-en", help="English title (default: from the slug)")
    new.add_argument("--author", help="author's name (default: git config user.name)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        root = create_plugin(
            args.slug, args.dir, title_zh=args.title_zh, title_en=args.title_en, author=args.author
        )
    except ScaffoldError as exc:
        print(f"jimu-sdk: error: {exc}", file=sys.stderr)
        return 1
    count = sum(1 for path in root.rglob("*") if path.is_file())
    print(f"Created plugin {args.slug!r} in {root} ({count} files).")
    if not args.title_zh:
        print(
            "No --title-zh given: the Chinese title repeats the English one; "
            "edit meta.title in plugin.py and locale/zh-CN.json."
        )
    print(f"Next:\n  cd {root}\n  pip install -e '.[test]'\n  pytest")
    return 0
