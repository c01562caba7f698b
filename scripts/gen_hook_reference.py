"""Generate docs/hook-reference.md from core/jimu/hookspecs.py.

Usage (from the repository root)::

    .venv/bin/python scripts/gen_hook_reference.py            # (re)write the file
    .venv/bin/python scripts/gen_hook_reference.py --check    # exit 1 if it is out of date

The reference is built by introspection: every hookspec in ``CONTRIBUTION_HOOKS`` and
``RUNTIME_HOOKS`` order gets a heading with its exact signature, ``name(arg1, arg2)``
(Datasette style), its kind, its calling notes (first result, fail closed), its return
annotation, and its docstring, whose ``Example::`` block becomes a Python code block.
"""

from __future__ import annotations

import argparse
import inspect
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

REPO = Path(__file__).resolve().parents[1]
OUTPUT = REPO / "docs" / "hook-reference.md"
SPEC_ATTRIBUTE = "jimu_spec"  # set by pluggy's HookspecMarker("jimu")

CONTRIBUTION_NOTE = (
    "**Contribution hook.** Called once at start-up for every installed plugin (enabled or "
    "not); core calls each plugin's implementation separately and keeps what it returns. An "
    "implementation that raises marks only its own plugin as broken."
)
RUNTIME_NOTE = (
    "**Runtime hook.** Called per request or event, and reaches only the plugins the acting "
    "tenant has enabled."
)
CONTAINED_NOTE = (
    "**Failures are contained.** An implementation that raises, or answers after the hook "
    "timeout (`JIMU_HOOK_TIMEOUT`, 5 s by default), is recorded as a hook failure "
    "(`GET /api/v1/hook-failures`) and its answer is skipped; the request goes on."
)
FAIL_CLOSED_NOTE = (
    "**Fails closed (money path).** An implementation that raises or times out is recorded "
    "as a hook failure and the whole operation fails with `409 pricing_failed` naming the "
    "plugin; no partial answer is ever used."
)
FIRST_RESULT_NOTE = (
    "**First result wins.** Implementations are tried one by one and the first answer that "
    "is not `None` is used; the rest are not called (pluggy `firstresult`)."
)


INTRO = [
    "Every hook Jimu core calls. The docstring of each hookspec is its contract; this page "
    "is generated from them. There are two kinds:",
    "",
    "- **Contribution hooks** (`register_*`) run once at start-up for every *installed* "
    "plugin and return what the plugin adds: tables, routes, jobs, price steps, … Routes and "
    "pages of a plugin a tenant has switched off answer 404 for that tenant; jobs, schedules "
    "and event handlers do not run for it.",
    "- **Runtime hooks** run per request or event and reach only the plugins the acting "
    "tenant has enabled.",
    "",
    "Implement a hook with a module-level function of the same name, decorated with "
    "`jimu_sdk.hookimpl`, in the module your `jimu.plugins` entry point names. Core calls "
    "hooks with keyword arguments; an implementation may accept a subset of them, by the "
    "exact names below. Give them **no default values**: pluggy passes every argument a "
    "hook is called with, so a default would only mislead. A plugin implementing a misspelt "
    "hook or argument name is listed as broken, with pluggy's `PluginValidationError` "
    "message, and not loaded.",
]


def _src_paths() -> None:
    """Make ``jimu`` and ``jimu_sdk`` importable when the workspace is not installed."""
    for path in (REPO / "core", REPO / "sdk"):
        if str(path) not in sys.path:
            sys.path.insert(0, str(path))


def load_hookspecs() -> ModuleType:
    try:
        import jimu.hookspecs as module
    except ImportError:
        _src_paths()
        import jimu.hookspecs as module
    return module


def hookspec_functions(module: ModuleType) -> dict[str, Callable[..., Any]]:
    """Every function of ``module`` marked with ``@hookspec``, by name."""
    return {
        name: fn
        for name, fn in vars(module).items()
        if callable(fn) and hasattr(fn, SPEC_ATTRIBUTE)
    }


def ordered_hooks(module: ModuleType) -> list[tuple[str, str]]:
    """``[(name, kind)]`` in ``CONTRIBUTION_HOOKS`` + ``RUNTIME_HOOKS`` order.

    Raises ``ValueError`` when a hookspec is in neither list, or a listed name is no hookspec,
    so the reference can never silently miss a hook.
    """
    specs = hookspec_functions(module)
    listed = [(name, "contribution") for name in module.CONTRIBUTION_HOOKS]
    listed += [(name, "runtime") for name in module.RUNTIME_HOOKS]
    names = [name for name, _ in listed]
    unlisted = sorted(set(specs) - set(names))
    if unlisted:
        raise ValueError(f"hookspecs missing from CONTRIBUTION_HOOKS/RUNTIME_HOOKS: {unlisted}")
    unknown = sorted(set(names) - set(specs))
    if unknown:
        raise ValueError(f"listed hooks without a hookspec: {unknown}")
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise ValueError(f"hooks listed twice: {duplicated}")
    return listed


def signature(name: str, fn: Callable[..., Any]) -> str:
    """``name(arg1, arg2)``: the exact heading a hook gets in the reference."""
    return f"{name}({', '.join(inspect.signature(fn).parameters)})"


def _annotation(value: Any) -> str:
    if isinstance(value, str):
        return value
    return inspect.formatannotation(value)


def rst_to_markdown(text: str) -> str:
    """The few reStructuredText idioms hookspec docstrings use, as Markdown.

    ``literal`` → `literal`, and a paragraph ending in ``::`` followed by an indented block
    becomes that paragraph (ending in ``:``) and a fenced Python block.
    """
    lines = inspect.cleandoc(text).splitlines()
    out: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.rstrip().endswith("::"):
            head = line.rstrip()[:-2].rstrip()
            if head:
                out.append(_inline(head) + ":")
            index += 1
            block: list[str] = []
            while index < len(lines) and (
                not lines[index].strip() or lines[index].startswith((" ", "\t"))
            ):
                block.append(lines[index])
                index += 1
            while block and not block[0].strip():
                block.pop(0)
            while block and not block[-1].strip():
                block.pop()
            indent = min(len(b) - len(b.lstrip()) for b in block if b.strip()) if block else 0
            out += ["", "```python", *[b[indent:] for b in block], "```", ""]
            continue
        out.append(_inline(line))
        index += 1
    text_out = "\n".join(out)
    return re.sub(r"\n{3,}", "\n\n", text_out).strip()


def _inline(line: str) -> str:
    return re.sub(r"``(.+?)``", r"`\1`", line)


def render(module: ModuleType | None = None) -> str:
    """The whole text of docs/hook-reference.md."""
    module = module or load_hookspecs()
    specs = hookspec_functions(module)
    hooks = ordered_hooks(module)
    fail_closed = set(getattr(module, "FAIL_CLOSED_HOOKS", ()))
    try:
        from jimu.version import CORE_API_VERSION
    except ImportError:  # pragma: no cover - core is always importable in this repository
        CORE_API_VERSION = "?"

    parts = [
        "# Hook reference",
        "",
        "<!-- Generated by scripts/gen_hook_reference.py from core/jimu/hookspecs.py. "
        "Do not edit by hand: change the hookspec docstrings and run "
        "`.venv/bin/python scripts/gen_hook_reference.py`. -->",
        "",
        f"Core API version: **{CORE_API_VERSION}**. A plugin declares the versions it works "
        'with in `PluginMeta.requires_core` (e.g. `">=1.0,<2"`); see the '
        "[plugin author guide](plugin-author-guide.md).",
        "",
        *INTRO,
        "",
        "## Summary",
        "",
        "| Hook | Kind | Returns |",
        "| --- | --- | --- |",
    ]
    for name, kind in hooks:
        fn = specs[name]
        anchor = re.sub(r"[^a-z0-9_-]", "", signature(name, fn).lower().replace(" ", "-"))
        returns = _annotation(fn.__annotations__.get("return", "None")).replace("|", "\\|")
        notes = []
        if getattr(fn, SPEC_ATTRIBUTE).get("firstresult"):
            notes.append("first result")
        if name in fail_closed:
            notes.append("fails closed")
        label = kind + (f" ({', '.join(notes)})" if notes else "")
        parts.append(f"| [`{signature(name, fn)}`](#{anchor}) | {label} | `{returns}` |")

    for section, kind in (("Contribution hooks", "contribution"), ("Runtime hooks", "runtime")):
        parts += ["", f"## {section}"]
        for name, hook_kind in hooks:
            if hook_kind == kind:
                parts += ["", *render_hook(name, specs[name], kind, name in fail_closed)]
    return "\n".join(parts).rstrip() + "\n"


def render_hook(name: str, fn: Callable[..., Any], kind: str, fail_closed: bool) -> list[str]:
    options = getattr(fn, SPEC_ATTRIBUTE)
    params = inspect.signature(fn).parameters
    lines = [f"### {signature(name, fn)}", ""]
    if kind == "contribution":
        lines.append(CONTRIBUTION_NOTE)
    else:
        lines.append(RUNTIME_NOTE)
        if options.get("firstresult"):
            lines += ["", FIRST_RESULT_NOTE]
        lines += ["", FAIL_CLOSED_NOTE if fail_closed else CONTAINED_NOTE]
    lines.append("")
    if params:
        lines.append(
            "**Arguments** (keyword only; accept the ones you need, with no default values):"
        )
        lines.append("")
        for param in params.values():
            annotation = (
                _annotation(param.annotation)
                if param.annotation is not inspect.Parameter.empty
                else "Any"
            )
            lines.append(f"- `{param.name}`: `{annotation}`")
    else:
        lines.append("**Arguments:** none.")
    lines += [
        "",
        f"**Returns:** `{_annotation(fn.__annotations__.get('return', 'None'))}`",
        "",
        rst_to_markdown(fn.__doc__ or "(undocumented)"),
    ]
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check",
        action="store_true",
        help="do not write; exit 1 if the file is missing or out of date",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=OUTPUT,
        help=f"file to write or check (default: {OUTPUT.relative_to(REPO)})",
    )
    args = parser.parse_args(argv)
    text = render()
    output: Path = args.output
    if args.check:
        current = output.read_text(encoding="utf-8") if output.exists() else None
        if current != text:
            print(
                f"{output} is out of date with core/jimu/hookspecs.py; regenerate it with "
                "`.venv/bin/python scripts/gen_hook_reference.py`",
                file=sys.stderr,
            )
            return 1
        print(f"{output} is up to date")
        return 0
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    print(f"wrote {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
