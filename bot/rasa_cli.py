"""Rasa's command line (`python -m bot.rasa_cli run ...`), with two speed fixes
and one display fix.

1. Freezing the loaded model for the garbage collector. Rasa's process holds
millions of objects once the model is loaded (TensorFlow, torch, the graph);
each full collection walked all of them: 200-390 ms pauses of the whole
server, measured with `gc.callbacks` under `make bench-chat`. `gc.freeze()`
after loading takes them out of every later collection.

2. Rasa 3.6 checks every action server response with `jsonschema.validate`,
which first re-validates the constant response schema against the JSON
Schema meta-schema: 34 ms of the server's single event loop per custom
action on our 2-core machine for a recommendation reply, against under 2 ms
with a validator compiled once. Same schema, same errors. For an empty
reply the commands below time 20.6 ms against 0.011 ms here:

    .venv/bin/python -m timeit -s "import jsonschema; from rasa.core.actions.action import \
        RemoteAction as R; s = R.action_response_format_spec()" "jsonschema.validate({'events': []}, s)"
    .venv/bin/python -m timeit -s "from bot.rasa_cli import _response_validator as v" \
        "v().validate({'events': []})"

3. `rasa shell` prints a list's plain text and not, after it, the same list
as the JSON the channel adapters render (actions/replies.py `rich`).

4. Rasa's training warning that entity examples go unused is expected: it
knows only its own entity extractors, and ours learns them.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import logging
import warnings
from collections.abc import Iterator
from importlib.metadata import version
from typing import Any


def _ignore_deprecations() -> None:
    """Libraries' deprecation notices (TensorFlow, SQLAlchemy, matplotlib) are not ours to act on:
    what the person sees is what the bot does."""
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", category=PendingDeprecationWarning)


_ignore_deprecations()  # before Rasa imports them
import sanic.app  # noqa: E402,F401

_ignore_deprecations()  # again: importing Sanic turns them back on

from jsonschema import ValidationError  # noqa: E402
from jsonschema.validators import validator_for  # noqa: E402
from rasa.core import run  # noqa: E402
from rasa.core.actions.action import RemoteAction  # noqa: E402
from rasa.core.channels import console  # noqa: E402

from chatrec.contracts import CUSTOM_KEY  # noqa: E402

PATCHED_RASA = "3.6."  # the fixes replace private functions of this Rasa release only
_validate_original = RemoteAction._validate_action_result
_load_agent_on_start = run.load_agent_on_start
_print_bot_output = console._print_bot_output


def _print_text_not_data(message: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
    """Skip the adapters' copy of a message whose text was already printed."""
    if CUSTOM_KEY in (message.get("custom") or {}) and not message.get("text"):
        return None
    return _print_bot_output(message, *args, **kwargs)


@functools.lru_cache(maxsize=1)
def _response_validator() -> Any:
    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)  # once, instead of on every response
    return cls(schema)


def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    try:
        _response_validator().validate(result)
        return True
    except ValidationError as error:
        error.message += (". Failed to validate Action server response from API, make sure your "
                          "response from the Action endpoint is valid.")
        raise


async def _load_agent_then_freeze(*args: Any, **kwargs: Any) -> Any:
    agent = await _load_agent_on_start(*args, **kwargs)
    gc.collect()
    gc.freeze()
    return agent


def patch() -> bool:
    """Apply the fixes to this Rasa; False (and Rasa unchanged) on a release they were not made for."""
    if not version("rasa").startswith(PATCHED_RASA):
        logging.getLogger(__name__).warning("Rasa %s: running without Chat-Rec's fixes (made for %sx)",
                                            version("rasa"), PATCHED_RASA)
        return False
    RemoteAction._validate_action_result = _validate_action_result
    run.load_agent_on_start = _load_agent_then_freeze
    console._print_bot_output = _print_text_not_data
    return True


def unpatch() -> None:
    RemoteAction._validate_action_result = _validate_original
    run.load_agent_on_start = _load_agent_on_start
    console._print_bot_output = _print_bot_output


@contextlib.contextmanager
def patched() -> Iterator[bool]:
    """The fixes for the duration of the block (tests)."""
    try:
        yield patch()
    finally:
        unpatch()


# Rasa 3.6's training warns that entity examples go unused unless the pipeline holds one of its own
# three extractors; ours (bot/components/bert_nlu.py) learns them. Rasa's own list of expected
# warnings, which it filters at every log level above DEBUG, takes it.
UNUSED_ENTITIES_WARNING = (UserWarning, "You have defined training data consisting of entity examples.*")


def expect_our_warnings() -> None:
    from rasa.utils import common

    if UNUSED_ENTITIES_WARNING not in common.EXPECTED_WARNINGS:
        common.EXPECTED_WARNINGS.append(UNUSED_ENTITIES_WARNING)


if __name__ == "__main__":
    patch()
    expect_our_warnings()
    from rasa.__main__ import main

    main()
