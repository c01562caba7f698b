"""``jimu-sdk new``: what it writes, what it refuses, and that its output really works.

The fast tests read the generated files. The slow one installs a generated plugin into a
throwaway virtualenv (versions pinned to the workspace's, from uv's cache or the index) the
way a third party would and runs the plugin's own tests there, plus the per-tenant checks in
``e2e/installed_plugin_per_tenant.py``.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from jimu_sdk.scaffold import (
    CORE_API_VERSION,
    MIGRATION_ID,
    RESERVED_SLUGS,
    SLUG_PATTERN,
    ScaffoldError,
    create_plugin,
    main,
)

REPO = Path(__file__).resolve().parents[2]
PER_TENANT_CHECKS = Path(__file__).parent / "e2e" / "installed_plugin_per_tenant.py"

EXPECTED_FILES = {
    "README.md",
    "piccolo_conf.py",
    "pyproject.toml",
    "tests/test_plugin.py",
    "jimu_visit_notes/__init__.py",
    "jimu_visit_notes/api.py",
    "jimu_visit_notes/locale/en.json",
    "jimu_visit_notes/locale/zh-CN.json",
    "jimu_visit_notes/piccolo_app.py",
    "jimu_visit_notes/piccolo_migrations/__init__.py",
    "jimu_visit_notes/piccolo_migrations/visit_notes_2026_11_23t20_42_41_805371.py",
    "jimu_visit_notes/plugin.py",
    "jimu_visit_notes/services.py",
    "jimu_visit_notes/tables.py",
    "jimu_visit_notes/templates/visit_notes/index.html",
}


def files_under(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def plugin_meta(plugin_py: Path) -> dict[str, Any]:
    """The keyword arguments of ``meta = PluginMeta(...)``, read without importing."""
    tree = ast.parse(plugin_py.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "meta":
            assert isinstance(node.value, ast.Call)
            meta: dict[str, Any] = {}
            for keyword in node.value.keywords:
                value = keyword.value
                if isinstance(value, ast.Call):  # localized(zh, en)
                    zh, en = (ast.literal_eval(arg) for arg in value.args)
                    meta[str(keyword.arg)] = {"zh-CN": zh, "en": en}
                else:
                    meta[str(keyword.arg)] = ast.literal_eval(value)
            return meta
    raise AssertionError(f"no `meta = PluginMeta(...)` in {plugin_py}")


@pytest.fixture
def scaffolded(tmp_path: Path) -> Path:
    code = main(
        [
            "new",
            "visit_notes",
            "--dir",
            str(tmp_path),
            "--title-zh",
            "回访记录",
            "--title-en",
            "Visit notes",
            "--author",
            "Li Lei",
        ]
    )
    assert code == 0
    return tmp_path / "visit_notes"


# ------------------------------------------------------------------ what it writes


def test_new_writes_a_complete_plugin_distribution(tmp_path: Path, capsys) -> None:
    assert main(["new", "visit_notes", "--dir", str(tmp_path), "--author", "A"]) == 0
    root = tmp_path / "visit_notes"
    assert files_under(root) == EXPECTED_FILES
    out = capsys.readouterr().out
    assert f"Created plugin 'visit_notes' in {root} (15 files)." in out
    assert "No --title-zh given" in out
    assert f"cd {root}" in out and "pytest" in out


def test_pyproject_declares_the_entry_point_the_build_and_the_sdk(scaffolded: Path) -> None:
    project = tomllib.loads((scaffolded / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["name"] == "jimu-visit-notes"
    assert project["project"]["entry-points"]["jimu.plugins"] == {
        "visit_notes": "jimu_visit_notes.plugin"
    }
    assert project["project"]["dependencies"] == ["jimu-sdk>=0.1.0"]
    assert project["project"]["optional-dependencies"]["test"] == ["jimu-sdk[testing]>=0.1.0"]
    assert project["project"]["authors"] == [{"name": "Li Lei"}]
    assert project["build-system"]["build-backend"] == "hatchling.build"
    assert project["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"] == ["jimu_visit_notes"]
    assert project["tool"]["pytest"]["ini_options"]["asyncio_mode"] == "auto"


def test_meta_carries_both_titles_the_author_and_the_core_major(scaffolded: Path) -> None:
    from jimu.version import CORE_API_VERSION as core_api

    meta = plugin_meta(scaffolded / "jimu_visit_notes" / "plugin.py")
    major = int(core_api.split(".")[0])
    assert meta["name"] == "visit_notes"
    assert meta["title"] == {"zh-CN": "回访记录", "en": "Visit notes"}
    assert meta["description"]["zh-CN"] and meta["description"]["en"]
    assert meta["author"] == "Li Lei"
    assert meta["requires_core"] == f">={major}.0,<{major + 1}"


def test_sdk_fallback_core_api_matches_core() -> None:
    from jimu.version import CORE_API_VERSION as core_api

    assert core_api == CORE_API_VERSION


def test_plugin_implements_the_asked_hooks(scaffolded: Path) -> None:
    tree = ast.parse((scaffolded / "jimu_visit_notes" / "plugin.py").read_text(encoding="utf-8"))
    hooks = {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and any(getattr(d, "id", None) == "hookimpl" for d in node.decorator_list)
    }
    assert hooks == {
        "register_piccolo_app",
        "register_routes",
        "register_admin_pages",
        "register_template_dir",
        "register_translations",
        "register_permissions",
        "customer_facts",
    }


def test_generated_python_compiles_and_names_things_after_the_slug(scaffolded: Path) -> None:
    for path in scaffolded.rglob("*.py"):
        compile(path.read_text(encoding="utf-8"), str(path), "exec")
    tables = (scaffolded / "jimu_visit_notes" / "tables.py").read_text(encoding="utf-8")
    assert 'class Note(TenantScoped, Table, tablename="visit_notes_note")' in tables
    app = (scaffolded / "jimu_visit_notes" / "piccolo_app.py").read_text(encoding="utf-8")
    assert 'app_name="visit_notes"' in app
    migration = next((scaffolded / "jimu_visit_notes" / "piccolo_migrations").glob("visit_*"))
    text = migration.read_text(encoding="utf-8")
    assert f'ID = "{MIGRATION_ID}"' in text and 'app_name="${slug}"' not in text
    assert 'tablename="visit_notes_note"' in text


def test_catalogs_hold_the_same_message_ids_in_both_locales(scaffolded: Path) -> None:
    locale = scaffolded / "jimu_visit_notes" / "locale"
    zh = json.loads((locale / "zh-CN.json").read_text(encoding="utf-8"))
    en = json.loads((locale / "en.json").read_text(encoding="utf-8"))
    assert set(zh) == set(en)
    assert all(key.startswith("visit_notes.") for key in zh)
    assert (zh["visit_notes.title"], en["visit_notes.title"]) == ("回访记录", "Visit notes")
    template = scaffolded / "jimu_visit_notes" / "templates" / "visit_notes" / "index.html"
    assert 'zh["visit_notes.title"]' in template.read_text(encoding="utf-8")


def test_first_test_of_the_plugin_checks_it_is_installed(scaffolded: Path) -> None:
    tree = ast.parse((scaffolded / "tests" / "test_plugin.py").read_text(encoding="utf-8"))
    tests = [
        node.name
        for node in tree.body
        if isinstance(node, ast.AsyncFunctionDef | ast.FunctionDef)
        and node.name.startswith("test_")
    ]
    assert tests[0] == "test_plugin_is_installed"
    assert "test_customer_facts_answer_only_where_the_plugin_is_on" in tests


def test_titles_and_author_with_quotes_stay_valid_code(tmp_path: Path) -> None:
    tricky = 'Say "hi" \\ {now} ${slug}'
    root = create_plugin("quoted", tmp_path, title_zh="“引号”", title_en=tricky, author=tricky)
    meta = plugin_meta(root / "jimu_quoted" / "plugin.py")
    assert meta["title"] == {"zh-CN": "“引号”", "en": tricky}
    assert meta["author"] == tricky
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["authors"] == [{"name": tricky}]
    en = json.loads((root / "jimu_quoted" / "locale" / "en.json").read_text(encoding="utf-8"))
    assert en["quoted.title"] == tricky


def test_titles_default_from_the_slug(tmp_path: Path) -> None:
    root = create_plugin("warranty_cards", tmp_path, author="A")
    meta = plugin_meta(root / "jimu_warranty_cards" / "plugin.py")
    assert meta["title"] == {"zh-CN": "Warranty Cards", "en": "Warranty Cards"}


def test_initial_migration_matches_the_table(scaffolded: Path) -> None:
    """piccolo's auto-migration finds nothing to add: the template's migration is complete."""
    piccolo = Path(sys.executable).parent / "piccolo"
    env = {**os.environ, "PICCOLO_CONF": "piccolo_conf"}
    env.pop("PYTHONPATH", None)
    before = files_under(scaffolded / "jimu_visit_notes" / "piccolo_migrations")
    result = subprocess.run(
        [str(piccolo), "migrations", "new", "visit_notes", "--auto"],
        cwd=scaffolded,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No changes detected" in result.stdout, result.stdout
    assert files_under(scaffolded / "jimu_visit_notes" / "piccolo_migrations") == before


def test_generated_code_passes_ruff_with_its_own_settings(scaffolded: Path) -> None:
    ruff = Path(sys.executable).parent / "ruff"
    assert ruff.exists(), "ruff comes with the workspace's dev dependency group (uv sync)"
    for command in (["check"], ["format", "--check"]):
        result = subprocess.run(
            [str(ruff), *command, "."],
            cwd=scaffolded,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr


def test_console_script_is_installed(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "jimu-sdk"
    result = subprocess.run(
        [str(script), "new", "parts_bin", "--dir", str(tmp_path), "--author", "A"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "parts_bin" / "jimu_parts_bin" / "plugin.py").is_file()


# ------------------------------------------------------------------ what it refuses


@pytest.mark.parametrize(
    ("slug", "reason"),
    [
        ("VisitNotes", "snake_case"),
        ("visit-notes", "snake_case"),
        ("2fast", "snake_case"),
        ("_hidden", "snake_case"),
        ("visit__notes", "snake_case"),
        ("notes_", "snake_case"),
        ("", "snake_case"),
        ("café", "snake_case"),
        ("a" * 41, "at most 40"),
        ("core", "reserved"),
        ("sdk", "reserved"),
        ("customers", "reserved"),
    ],
)
def test_invalid_slugs_are_refused_saying_why(
    tmp_path: Path, capsys, slug: str, reason: str
) -> None:
    assert main(["new", slug, "--dir", str(tmp_path), "--author", "A"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("jimu-sdk: error: invalid plugin slug")
    assert reason in err
    assert list(tmp_path.iterdir()) == []


def test_existing_plugin_directory_is_never_overwritten(tmp_path: Path, capsys) -> None:
    existing = tmp_path / "visit_notes"
    existing.mkdir()
    (existing / "plugin.py").write_text("mine\n")
    assert main(["new", "visit_notes", "--dir", str(tmp_path), "--author", "A"]) == 1
    err = capsys.readouterr().err
    assert f"{existing} already exists" in err and "never overwrites" in err
    assert files_under(existing) == {"plugin.py"}
    assert (existing / "plugin.py").read_text() == "mine\n"


def test_dir_that_is_a_file_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "file.txt"
    target.write_text("")
    with pytest.raises(ScaffoldError, match="is a file, not a directory"):
        create_plugin("visit_notes", target, author="A")


def test_missing_dir_is_created(tmp_path: Path) -> None:
    root = create_plugin("visit_notes", tmp_path / "a" / "b", author="A")
    assert root == tmp_path / "a" / "b" / "visit_notes"
    assert files_under(root) == EXPECTED_FILES


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--title-en", "   ", "the English title is empty"),
        ("--title-zh", "x" * 81, "the Chinese title is 81 characters long"),
        ("--author", "Li\nLei", "control characters"),
    ],
)
def test_bad_titles_and_authors_are_refused(
    tmp_path: Path, capsys, option: str, value: str, message: str
) -> None:
    assert main(["new", "visit_notes", "--dir", str(tmp_path), "--author", "A", option, value]) == 1
    assert message in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_reserved_slugs_cover_every_core_api_prefix(tmp_path: Path) -> None:
    """A plugin's routes mount at /api/v1/<slug>; none may land on a core route."""
    from jimu.app import create_app
    from jimu.kernel import Kernel
    from jimu.settings import Settings

    kernel = Kernel(Settings(database_url=f"sqlite:///{tmp_path}/core.sqlite3", load_plugins=()))
    kernel.load_plugins()
    app = create_app(kernel)
    prefixes = {
        route.path.split("/")[3] for route in app.routes if route.path.startswith("/api/v1/")
    }
    assert prefixes
    assert {p for p in prefixes if SLUG_PATTERN.match(p)} <= RESERVED_SLUGS


# ------------------------------------------------------------------ it really works


def _run(
    command: list[str], *, cwd: Path, env: dict[str, str], timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert result.returncode == 0, (
        f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    )
    return result


def _clean_env() -> dict[str, str]:
    """This process's environment minus what would point a child at the workspace venv."""
    env = dict(os.environ)
    for name in (
        "VIRTUAL_ENV",
        "PYTHONPATH",
        "PYTHONHOME",
        "PYTEST_ADDOPTS",
        "UV_PROJECT_ENVIRONMENT",
    ):
        env.pop(name, None)
    return env


@pytest.mark.slow
def test_scaffolded_plugin_installs_like_a_third_party_one_and_passes_its_tests(
    tmp_path: Path,
) -> None:
    """Scaffold → install (wheel) → the plugin's own tests and per-tenant checks pass.

    The venv gets core and the SDK as editable installs from this repository and the plugin as
    a wheel that uv builds from the scaffolded directory, so the packaging (migrations,
    templates, catalogs) and the ``jimu.plugins`` entry point are what is tested; versions are
    pinned to this workspace's. Not ``--offline``: on a new machine ``uv sync --frozen`` fills
    uv's wheel cache but not its index pages, so an offline resolve finds nothing.
    """
    uv = shutil.which("uv")
    assert uv is not None, "the end-to-end scaffold test needs `uv` on PATH"
    env = _clean_env()
    venv = tmp_path / "venv"
    python = venv / "bin" / "python"

    frozen = _run([uv, "pip", "freeze", "--python", sys.executable], cwd=tmp_path, env=env)
    constraints = tmp_path / "constraints.txt"
    constraints.write_text(
        "\n".join(
            line
            for line in frozen.stdout.splitlines()
            if line and not line.startswith(("-e", "jimu")) and " @ " not in line
        )
        + "\n"
    )
    _run([uv, "venv", "--quiet", "--python", sys.executable, str(venv)], cwd=tmp_path, env=env)
    _run(
        [
            uv,
            "pip",
            "install",
            "--quiet",
            "--python",
            str(python),
            "-c",
            str(constraints),
            "-e",
            str(REPO / "core"),
            "-e",
            f"{REPO / 'sdk'}[testing]",
        ],
        cwd=tmp_path,
        env=env,
    )

    # The author's first command, from the SDK installed in their environment.
    _run(
        [
            str(venv / "bin" / "jimu-sdk"),
            "new",
            "visit_notes",
            "--dir",
            str(tmp_path / "src"),
            "--title-zh",
            "回访记录",
            "--title-en",
            "Visit notes",
            "--author",
            "E2E",
        ],
        cwd=tmp_path,
        env=env,
    )
    plugin = tmp_path / "src" / "visit_notes"
    _run(
        [
            uv,
            "pip",
            "install",
            "--quiet",
            "--python",
            str(python),
            "-c",
            str(constraints),
            f"{plugin}[test]",
        ],
        cwd=tmp_path,
        env=env,
    )

    report = tmp_path / "report.xml"
    result = subprocess.run(
        [
            str(venv / "bin" / "pytest"),
            "-p",
            "no:cacheprovider",
            "-q",
            "-c",
            str(plugin / "pyproject.toml"),
            "--rootdir",
            str(plugin),
            f"--junitxml={report}",
            str(plugin / "tests"),
            str(PER_TENANT_CHECKS),
        ],
        cwd=plugin,
        env={**env, "JIMU_SCAFFOLD_SLUG": "visit_notes"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr

    cases = ET.parse(report).getroot().iter("testcase")
    outcomes = {
        case.get("name"): [
            child.tag for child in case if child.tag in ("failure", "error", "skipped")
        ]
        for case in cases
    }
    assert outcomes == {
        "test_plugin_is_installed": [],
        "test_note_is_added_and_listed_for_its_customer": [],
        "test_note_on_an_unknown_customer_is_not_found": [],
        "test_admin_page_shows_the_notes": [],
        "test_customer_facts_answer_only_where_the_plugin_is_on": [],
        "test_plugin_comes_from_its_installed_wheel_through_the_entry_point": [],
        "test_enabled_tenant_sees_the_plugin_and_the_other_does_not": [],
    }, result.stdout
