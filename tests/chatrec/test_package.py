"""`pip install .` gives a working program: the wheel carries the Rasa project, the
migrations and the `chatrec` command."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from chatrec.cli import COMMANDS
from chatrec.settings import ROOT


@pytest.mark.integration
def test_the_wheel_holds_the_bot_the_migrations_and_the_command(tmp_path: Path) -> None:
    source = tmp_path / "source"  # setuptools builds in the source folder: not in the checkout
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".*", "models", "reports", "build", "*.egg-info", "__pycache__", "docs", "tests"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--no-build-isolation",
                    "-w", str(tmp_path), "-q"], check=True, cwd=tmp_path)
    wheel = zipfile.ZipFile(next(tmp_path.glob("chat_rec-*.whl")))
    names = set(wheel.namelist())
    for needed in ("bot/config.yml", "bot/domain/domain.yml", "bot/data/nlu.yml",
                   "bot/components/bert_nlu.py", "recommender/storage/migrations/env.py",
                   "recommender/storage/migrations/versions/0001_feedback.py",
                   "actions/calls.py", "channels/telegram.py", "chatrec/settings.py", "launcher/stack.py"):
        assert needed in names, needed
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "chatrec = chatrec.cli:main" in wheel.read(entry_points).decode()
    # a fresh Python with only the wheel: the command starts (it imports nothing heavy)
    subprocess.run([sys.executable, "-m", "venv", str(tmp_path / "fresh")], check=True)
    fresh = tmp_path / "fresh" / "bin"
    subprocess.run([fresh / "pip", "install", "-q", "--no-deps", "--no-index", wheel.filename], check=True)
    shown = subprocess.run([fresh / "chatrec", "--help"], capture_output=True, text=True, check=True).stdout
    assert all(name in shown for name in COMMANDS)


def test_the_command_lists_what_it_runs() -> None:
    shown = subprocess.run([sys.executable, "-m", "chatrec", "--help"], cwd=ROOT, capture_output=True,
                           text=True, check=True).stdout
    assert all(name in shown for name in COMMANDS)
