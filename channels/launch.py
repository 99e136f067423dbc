"""Start an adapter, and the bot stack under it unless CHATREC_RASA_URL points at a running bot."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Awaitable, Callable

from channels.rasa_client import rasa_url
from chatrec import settings
from launcher.stack import Stack, train_missing, write_endpoints


def with_bot(serve: Callable[[str], Awaitable[None]]) -> None:
    """Run `serve(rasa_url)` until Ctrl-C; start and stop the worker, actions and Rasa around it."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # its INFO lines carry the bot token in URLs
    if settings.current().rasa_url:  # a Rasa somewhere else: start nothing
        _run(serve(settings.current().rasa_url))
        return
    model = train_missing()
    for stop_signal in (signal.SIGTERM, signal.SIGHUP):  # `finally` below stops the children
        signal.signal(stop_signal, lambda *_: sys.exit(0))
    stack = Stack(bound=True)  # whatever ends the adapter, the stack under it stops too
    endpoints, secrets = write_endpoints(stack.actions_port)
    port = settings.current().rasa_port
    try:
        stack.start_workers()
        stack.start_actions()
        stack.start_server(model, port, endpoints, secrets)
        stack.wait_ready(port)
        _run(serve(rasa_url()))
    finally:
        stack.stop()


def _run(coroutine: Awaitable[None]) -> None:
    """Run the adapter until Ctrl-C or SIGTERM, either of which ends it cleanly (its `finally`
    blocks and python-telegram-bot's shutdown run: what it keeps across restarts is written)."""
    async def until_stopped() -> None:
        task = asyncio.ensure_future(coroutine)
        loop = asyncio.get_running_loop()
        for stop_signal in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(stop_signal, task.cancel)
        try:
            await task
        except asyncio.CancelledError:
            pass

    asyncio.run(until_stopped())
