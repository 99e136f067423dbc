"""Measured results into the docs: percentiles, which machine, one section of a Markdown file."""

from __future__ import annotations

import argparse
import os
import platform
import statistics
from pathlib import Path

from chatrec.settings import ROOT

BENCHMARKS = ROOT / "docs" / "benchmarks.md"  # where measured sections go


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (f"{cpu}, {os.cpu_count()} cores, {memory_gb:.0f} GB RAM, {gpus()}; "
            f"Python {platform.python_version()}, {platform.system()} {platform.release()}")


def gpus() -> str:
    """"no GPU", or how many NVIDIA GPUs the driver shows."""
    driver = Path("/proc/driver/nvidia/gpus")
    found = sorted(driver.glob("*")) if driver.is_dir() else []
    return f"{len(found)} NVIDIA GPU{'s' if len(found) > 1 else ''}" if found else "no GPU"


def write_section(path: Path, key: str, title: str, text: str) -> None:
    """Replace the section `key` of `path` (or append it), keeping the other sections."""
    start, end = f"<!-- {key}:start -->", f"<!-- {key}:end -->"
    section = f"{start}\n## {title}\n\n{text}\n{end}"
    current = path.read_text() if path.exists() else "# Benchmarks\n"
    if start in current:
        before, rest = current.split(start, 1)
        current = before + section + rest.split(end, 1)[1]
    else:
        current = current.rstrip("\n") + "\n\n" + section + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(current)


def percentile(values: list[float], q: int) -> float:
    """The q-th percentile of `values` (statistics.quantiles, inclusive method)."""
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def command_line(prog: str, doc: str) -> argparse.ArgumentParser:
    """A report command: its description (the first paragraph of `doc`) and --doc, the Markdown
    file it writes its section into."""
    parser = argparse.ArgumentParser(prog=prog, description=doc.split("\n\n")[0])
    parser.add_argument("--doc", type=Path, default=BENCHMARKS, help="the Markdown file to write into")
    return parser
