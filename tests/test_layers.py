"""The folder tree is the architecture: every package imports only the layers below it.

devtools and (channels/launch.py only) channels -> launcher -> bot -> actions -> recommender ->
chatrec, and inside the recommender: tasks -> experiments -> training -> serving -> storage ->
evaluation -> model -> data -> domain. Imports inside functions and under TYPE_CHECKING count too.
"""

from __future__ import annotations

import ast
from pathlib import Path

from chatrec.settings import ROOT

PACKAGES = ["chatrec", "recommender", "actions", "bot", "launcher", "devtools", "channels"]  # bottom first
RECOMMENDER = ["domain", "data", "model", "evaluation", "storage", "serving", "training",
               "experiments", "tasks"]
LAUNCHER = "channels/launch.py"  # the one place channels start the bot


def imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return found


def sources() -> list[Path]:
    return [path for package in PACKAGES for path in (ROOT / package).rglob("*.py")
            if "migrations" not in path.parts]


def rank(module: str, order: list[str]) -> int | None:
    head = module.split(".")[0]
    return order.index(head) if head in order else None


def test_packages_import_only_downward() -> None:
    upward = []
    for path in sources():
        relative = path.relative_to(ROOT).as_posix()
        own = rank(relative.replace("/", "."), PACKAGES)
        for module in imports(path):
            other = rank(module, PACKAGES)
            if other is None or other <= own:
                continue
            upward.append(f"{relative} imports {module}")
        if relative.startswith("channels/") and relative != LAUNCHER:
            allowed = (None, 0, PACKAGES.index("channels"))  # libraries, chatrec, channels
            assert not {m for m in imports(path) if rank(m, PACKAGES) not in allowed}, relative
    assert not upward, upward


def test_recommender_layers_import_only_downward() -> None:
    upward = []
    for path in (ROOT / "recommender").rglob("*.py"):
        parts = path.relative_to(ROOT / "recommender").parts
        if len(parts) < 2 or "migrations" in parts:
            continue  # cli.py and __main__.py sit on top
        own = RECOMMENDER.index(parts[0])
        for module in imports(path):
            if not module.startswith("recommender."):
                continue
            layer = module.split(".")[1]
            if layer in RECOMMENDER and RECOMMENDER.index(layer) > own:
                upward.append(f"{'/'.join(parts)} imports {module}")
    assert not upward, upward


def test_the_task_client_needs_only_the_app_configuration_and_the_errors() -> None:
    allowed = {"recommender.tasks.config", "recommender.tasks.heartbeat", "recommender.tasks.metrics",
               "recommender.domain.errors", "recommender.domain.catalog"}
    used = {m for m in imports(ROOT / "recommender" / "tasks" / "client.py") if m.startswith("recommender.")}
    modules = {m for m in used if not any(other.startswith(m + ".") for other in used)}  # not the packages
    assert {m.rsplit(".", 1)[0] if m.rsplit(".", 1)[0] in allowed else m for m in modules} <= allowed


def test_only_developer_tools_import_devtools() -> None:
    """The launcher is production code (launcher/); devtools/ holds benchmarks and helpers only."""
    users = [path.relative_to(ROOT).as_posix() for path in sources()
             if not path.relative_to(ROOT).as_posix().startswith("devtools/")
             and any(module.split(".")[0] == "devtools" for module in imports(path))]
    assert not users, users
