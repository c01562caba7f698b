"""Every hookspec has a ``test_hook_<name>`` test (as Datasette requires)."""

import ast
from pathlib import Path

from jimu import hookspecs

TESTS = Path(__file__).resolve().parents[1]


def test_every_hook_has_a_test():
    defined = set()
    for path in TESTS.rglob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                defined.add(node.name)
    hooks = [*hookspecs.CONTRIBUTION_HOOKS, *hookspecs.RUNTIME_HOOKS]
    missing = [h for h in hooks if f"test_hook_{h}" not in defined]
    assert not missing, f"hooks without a test_hook_<name> test: {missing}"


def test_hook_lists_match_the_specs():
    specs = {name for name in dir(hookspecs)
             if callable(getattr(hookspecs, name))
             and hasattr(getattr(hookspecs, name), "jimu_spec")}
    assert specs == {*hookspecs.CONTRIBUTION_HOOKS, *hookspecs.RUNTIME_HOOKS}
