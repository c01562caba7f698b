"""Every message of core's and first-party plugins' templates and code is in both catalogs."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _i18n_script():
    spec = importlib.util.spec_from_file_location("i18n_script", ROOT / "scripts" / "i18n.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_message_is_translated_in_zh_cn_and_en():
    script = _i18n_script()
    problems = [problem for package, locale_dir in script.roots()
                for problem in script.sync(package, locale_dir, check=True)]
    assert not problems, ("run `python scripts/i18n.py`, then translate:\n"
                          + "\n".join(problems))


def test_the_check_catches_an_untranslated_message(tmp_path):
    script = _i18n_script()
    package = tmp_path / "pkg"
    (package / "templates").mkdir(parents=True)
    (package / "templates" / "page.html").write_text('{{ _("A brand new message") }}')
    locale_dir = package / "locale"
    script.sync(package, locale_dir, check=False)  # writes catalogs: en filled, zh_CN empty
    problems = script.sync(package, locale_dir, check=True)
    assert any("zh_CN" in p and "A brand new message" in p for p in problems)
    assert not any("/en/" in p for p in problems)
