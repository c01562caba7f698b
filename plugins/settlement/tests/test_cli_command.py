"""`jimu plugins run settlement run`: a month's settlement from the command line, on a SQLite
file with the demo tenant (each command is its own process)."""

import datetime as dt
import os
import subprocess
import sys
from zoneinfo import ZoneInfo

JIMU = [sys.executable, "-m", "jimu.cli"]


def jimu(env, *args):
    return subprocess.run([*JIMU, *args], env=env, capture_output=True, text=True, timeout=300)


def test_a_settlement_run_from_the_command_line(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}",
           "COLUMNS": "200", "NO_COLOR": "1"}
    assert jimu(env, "migrate").returncode == 0
    assert jimu(env, "demo", "--password", "demo-pass-123").returncode == 0
    listed = jimu(env, "plugins", "commands").stdout
    assert "settlement" in listed and "--period VALUE" in listed
    month = f"{dt.datetime.now(ZoneInfo('Asia/Shanghai')):%Y-%m}"
    done = jimu(env, "plugins", "run", "settlement", "run", "--tenant", "demo",
                "--period", month)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"of {month}:" in done.stdout and "statement(s)" in done.stdout
    again = jimu(env, "plugins", "run", "settlement", "run", "--tenant", "demo",
                 "--period", month, "--close")
    assert again.returncode == 0 and f"{month} closed" in again.stdout
    closed = jimu(env, "plugins", "run", "settlement", "run", "--tenant", "demo",
                  "--period", month)
    assert closed.returncode == 2 and "closed" in closed.stdout
    missing = jimu(env, "plugins", "run", "settlement", "run", "--tenant", "demo")
    assert missing.returncode == 2 and "needs --period" in missing.stdout
    unknown = jimu(env, "plugins", "run", "settlement", "nope", "--tenant", "demo")
    assert unknown.returncode == 2 and "has no command 'nope'" in unknown.stdout
