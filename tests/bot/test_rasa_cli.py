"""Rasa's own test commands on the project: `rasa test core` on the test
stories and `rasa test nlu` on the held-out set, with the model trained for
these tests (the real BERT component, fewer epochs)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from launcher.stack import BOT, ROOT, child_environment, rasa


def run_rasa(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(rasa(*args), cwd=ROOT, env=child_environment(), capture_output=True, text=True,
                          timeout=600)


def test_the_test_stories_pass(rasa_model: Path, tmp_path: Path) -> None:
    result = run_rasa("test", "core", "--model", str(rasa_model),
                      "--stories", str(BOT / "tests" / "test_stories.yml"),
                      "--out", str(tmp_path), "--no-plot", "--fail-on-prediction-errors")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "None of the test stories failed" in (tmp_path / "failed_test_stories.yml").read_text()
    report = json.loads((tmp_path / "story_report.json").read_text())
    assert report["accuracy"] == 1.0


def test_rasa_test_nlu_on_the_held_out_set(rasa_model: Path, tmp_path: Path) -> None:
    result = run_rasa("test", "nlu", "--model", str(rasa_model),
                      "--nlu", str(BOT / "tests" / "nlu_heldout.yml"),
                      "--out", str(tmp_path), "--no-plot")
    assert result.returncode == 0, result.stderr[-3000:]
    intents = json.loads((tmp_path / "intent_report.json").read_text())
    assert intents["accuracy"] >= 0.9  # the 12-epoch model: see docs/benchmarks.md
    entities = json.loads((tmp_path / "BertIntentEntityClassifier_report.json").read_text())
    assert entities["weighted avg"]["f1-score"] >= 0.85


def test_rasa_test_nlu_on_the_chinese_held_out_set_aligns_every_entity(
    rasa_model: Path, tmp_path: Path
) -> None:
    result = run_rasa("test", "nlu", "--model", str(rasa_model),
                      "--nlu", str(BOT / "tests" / "nlu_heldout_zh.yml"),
                      "--out", str(tmp_path), "--no-plot")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "isaligned" not in result.stdout + result.stderr  # every span falls on Rasa's tokens
    intents = json.loads((tmp_path / "intent_report.json").read_text())
    assert intents["accuracy"] >= 0.85  # the 12-epoch model: see docs/benchmarks.md
    entities = json.loads((tmp_path / "BertIntentEntityClassifier_report.json").read_text())
    assert entities["weighted avg"]["f1-score"] >= 0.8


def test_the_loaded_model_leaves_the_garbage_collectors_view(rasa_model: Path) -> None:
    import asyncio
    import gc
    from types import SimpleNamespace

    from rasa.core import run
    from rasa.core.utils import AvailableEndpoints

    from bot import rasa_cli

    app = SimpleNamespace(ctx=SimpleNamespace())
    gc.unfreeze()
    try:
        with rasa_cli.patched() as applied:
            assert applied
            agent = asyncio.run(
                run.load_agent_on_start(str(rasa_model), AvailableEndpoints(), None, app, None))
        assert agent.is_ready() and app.ctx.agent is agent
        assert gc.get_freeze_count() > 100_000  # the model's objects, frozen once loaded
    finally:
        gc.unfreeze()
    assert run.load_agent_on_start is rasa_cli._load_agent_on_start, "undone after the block"


def test_action_responses_are_checked_against_rasas_schema() -> None:
    import pytest
    from jsonschema import ValidationError
    from rasa.core.actions.action import RemoteAction

    from bot import rasa_cli

    action = RemoteAction("action_recommend", None)
    with rasa_cli.patched():
        assert action._validate_action_result({"events": [{"event": "slot", "name": "x", "value": 1}],
                                               "responses": [{"text": "hi"}]})
        with pytest.raises(ValidationError, match="Failed to validate Action server response"):
            action._validate_action_result({"events": [{"no_event_key": 1}]})
    assert RemoteAction._validate_action_result is rasa_cli._validate_original


def test_another_rasa_release_runs_without_the_fixes(monkeypatch) -> None:
    from rasa.core import run

    from bot import rasa_cli

    monkeypatch.setattr(rasa_cli, "PATCHED_RASA", "9.9.")
    with rasa_cli.patched() as applied:
        assert not applied and run.load_agent_on_start is rasa_cli._load_agent_on_start


def test_rasa_starts_without_library_noise() -> None:
    """What the person sees is what Chat-Rec does: no deprecation notices or TensorFlow logs."""
    result = run_rasa("data", "validate", "--domain", str(BOT / "domain"), "--data", str(BOT / "data"),
                      "--config", str(BOT / "config.yml"))
    assert result.returncode == 0, result.stderr[-2000:]
    output = result.stdout + result.stderr
    for noise in ("DeprecationWarning", "MovedIn20Warning", "oneDNN", "cudart", "TF-TRT"):
        assert noise not in output, noise
    assert "No story structure conflicts found" in output


def test_rasas_unused_entity_examples_warning_is_expected_of_our_pipeline() -> None:
    """Rasa filters its expected warnings when it configures logging; ours joins them."""
    import logging
    import warnings

    from rasa.shared.utils.io import raise_warning
    from rasa.utils.common import _filter_warnings

    from bot import rasa_cli

    rasa_cli.expect_our_warnings()
    with warnings.catch_warnings(record=True) as caught:
        _filter_warnings(log_level=logging.INFO)
        raise_warning("You have defined training data consisting of entity examples, but your NLU "
                      "configuration does not include an entity extractor trained on your training data.")
        raise_warning("Another warning stays.")
    assert [str(w.message) for w in caught] == ["Another warning stays."]
