"""One settings object: every variable read there, documented in the README, typed."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from chatrec import settings
from chatrec.settings import ROOT, Settings, variable

PACKAGES = ("actions", "bot", "channels", "chatrec", "devtools", "launcher", "recommender")
# Besides the settings module, only the launchers build environments for the processes they start.
MAY_READ_ENVIRONMENT = {"chatrec/settings.py", "chatrec/cli.py", "launcher/stack.py", "launcher/processes.py"}


def environment_reads(path: Path) -> list[int]:
    """Lines where `path` reads os.environ or calls os.getenv (assigning os.environ[x] is not a read)."""
    tree = ast.parse(path.read_text())
    assigned = {id(target.value) for node in ast.walk(tree) if isinstance(node, ast.Assign)
                for target in node.targets if isinstance(target, ast.Subscript)}
    return [node.lineno for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "os"
            and node.attr in ("environ", "getenv") and id(node) not in assigned]


def test_no_environment_read_outside_the_settings_module() -> None:
    offenders = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            relative = path.relative_to(ROOT).as_posix()
            if relative in MAY_READ_ENVIRONMENT:
                continue
            found = environment_reads(path)
            if found:
                offenders[relative] = found
    assert not offenders, f"read the environment through chatrec.settings instead: {offenders}"


def test_the_readme_table_is_the_settings_table() -> None:
    readme = (ROOT / "README.md").read_text()
    block = readme.split("<!-- settings:start -->")[1].split("<!-- settings:end -->")[0].strip()
    assert block == settings.markdown_table()
    printed = subprocess.run([sys.executable, "-m", "chatrec.settings"], cwd=ROOT, capture_output=True,
                             text=True, check=True).stdout.strip()
    assert printed == block


def test_values_are_typed_and_defaults_derived() -> None:
    config = Settings.from_environ({"CHATREC_STATE_DIR": "/tmp/x", "CHATREC_TASK_TIMEOUT": "2.5",
                                    "CHATREC_RASA_PORT": "6000", "CHATREC_BROKER_URL": "redis://h:1/0"})
    assert config.state_dir == Path("/tmp/x") and config.task_timeout == 2.5 and config.rasa_port == 6000
    assert config.database_url == "sqlite:////tmp/x/feedback.sqlite3"
    assert config.result_backend == "redis://h:1/0", "Redis brokers keep results too"
    assert config.rasa_address == "http://127.0.0.1:6000"
    assert Settings.from_environ({"CHATREC_BROKER_URL": "amqp://g:g@h//"}).result_backend == "rpc://"
    assert Settings.from_environ({}).broker_url == "filesystem://"
    assert Settings.from_environ({"CHATREC_RASA_PORT": ""}).rasa_port == 5005, "empty means the default"
    assert variable("telegram_bot_token") == "TELEGRAM_BOT_TOKEN"


def test_a_value_of_the_wrong_kind_is_named_clearly() -> None:
    with pytest.raises(ValueError, match="CHATREC_TASK_TIMEOUT must be a number, not 'soon'"):
        Settings.from_environ({"CHATREC_TASK_TIMEOUT": "soon"})
    with pytest.raises(ValueError, match="CHATREC_RASA_PORT must be a whole number"):
        Settings.from_environ({"CHATREC_RASA_PORT": "50.5"})


def test_secrets_never_show_in_a_repr() -> None:
    config = Settings.from_environ({"TELEGRAM_BOT_TOKEN": "123:SECRET", "SLACK_SIGNING_SECRET": "shh"})
    assert config.telegram_bot_token == "123:SECRET"
    assert "SECRET" not in repr(config) and "shh" not in repr(config)


def test_importing_the_action_server_loads_no_model_code() -> None:
    """Actions send task names; LightFM, training, tuning and evaluation stay in the workers."""
    heavy = ("lightfm", "recommender.training", "recommender.evaluation", "recommender.experiments",
             "recommender.model.hybrid", "recommender.tasks.worker", "alembic", "torch")
    code = ("import sys, actions.recommendations, actions.feedback, actions.calls; "
            f"print([m for m in {heavy!r} if m in sys.modules])")
    loaded = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                            check=True)
    assert loaded.stdout.strip() == "[]", loaded.stdout
