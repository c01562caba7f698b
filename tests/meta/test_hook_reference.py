"""The hook reference stays complete and true: every hookspec is documented with an example,
and docs/hook-reference.md is exactly what scripts/gen_hook_reference.py generates from them.
"""

from __future__ import annotations

import importlib.util
import inspect
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from jimu import hookspecs

REPO = Path(__file__).resolve().parents[2]
GENERATOR = REPO / "scripts" / "gen_hook_reference.py"
REFERENCE = REPO / "docs" / "hook-reference.md"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_hook_reference", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


gen = _generator()
SPECS = gen.hookspec_functions(hookspecs)
HOOKS = [*hookspecs.CONTRIBUTION_HOOKS, *hookspecs.RUNTIME_HOOKS]


def test_every_hookspec_is_listed_as_contribution_or_runtime():
    assert sorted(SPECS) == sorted(HOOKS)
    assert len(HOOKS) == len(set(HOOKS)), "a hook is listed twice"
    assert gen.ordered_hooks(hookspecs)  # raises naming any mismatch


@pytest.mark.parametrize("name", HOOKS)
def test_every_hookspec_has_a_docstring(name):
    doc = inspect.getdoc(SPECS[name]) or ""
    assert doc.strip(), f"hookspec {name} has no docstring"
    first_line = doc.strip().splitlines()[0]
    assert first_line.endswith("."), f"the first line of {name}'s docstring is not a sentence"


@pytest.mark.parametrize("name", HOOKS)
def test_every_hookspec_docstring_has_an_example(name):
    doc = inspect.getdoc(SPECS[name]) or ""
    match = re.search(r"^Example::\n\n((?:    .*\n?|\n)+)", doc, flags=re.MULTILINE)
    assert match, f"hookspec {name} has no `Example::` block followed by indented code"
    example = match.group(1)
    assert f"def {name}(" in example, f"the example of {name} does not implement {name}"
    assert "@hookimpl" in example, f"the example of {name} does not use @hookimpl"


def _headings() -> set[str]:
    text = REFERENCE.read_text(encoding="utf-8")
    return {m.group(1).strip() for m in re.finditer(r"^#{2,4} (.+)$", text, re.MULTILINE)}


@pytest.mark.parametrize("name", HOOKS)
def test_hook_reference_has_a_heading_with_the_exact_signature(name):
    args = ", ".join(inspect.signature(SPECS[name]).parameters)
    heading = f"{name}({args})"
    assert heading in _headings(), (
        f"docs/hook-reference.md lacks the heading `{heading}`; run "
        "`.venv/bin/python scripts/gen_hook_reference.py`"
    )


def test_hook_reference_is_up_to_date():
    assert REFERENCE.read_text(encoding="utf-8") == gen.render(hookspecs), (
        "docs/hook-reference.md is stale; run `.venv/bin/python scripts/gen_hook_reference.py`"
    )


def test_generator_check_mode_passes_on_the_committed_reference():
    result = subprocess.run(
        [sys.executable, str(GENERATOR), "--check"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_generator_check_mode_fails_on_a_stale_file(tmp_path):
    stale = tmp_path / "hook-reference.md"
    stale.write_text(
        REFERENCE.read_text(encoding="utf-8").replace(
            "### customer_facts(customer)", "### customer_facts()"
        ),
        encoding="utf-8",
    )
    assert gen.main(["--check", "--output", str(stale)]) == 1
    assert gen.main(["--check", "--output", str(tmp_path / "missing.md")]) == 1
    assert gen.main(["--output", str(stale)]) == 0
    assert gen.main(["--check", "--output", str(stale)]) == 0


def test_examples_become_python_code_blocks():
    text = REFERENCE.read_text(encoding="utf-8")
    for name in HOOKS:
        section = text.split(f"### {gen.signature(name, SPECS[name])}\n", 1)[1]
        section = section.split("\n### ", 1)[0]
        blocks = re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)
        assert any("@hookimpl\n" in b and f"def {name}(" in b for b in blocks), (
            f"{name}'s example is not a Python code block in docs/hook-reference.md"
        )
