"""Prometheus metrics of the workers and the action server (prometheus-client).

A process serves its metrics at http://<host>:$CHATREC_METRICS_PORT/metrics
when that variable is set; the launcher (`python -m launcher.stack`) sets 9810 for
the action server, 9811 for the interactive worker and 9812 for the learning worker
(CHATREC_METRICS_PORT_BASE moves all three; 0 turns them off). A prefork
worker counts its children's tasks through PROMETHEUS_MULTIPROC_DIR.

| name | labels | what |
|---|---|---|
| chatrec_task_seconds | task | worker: time a task ran |
| chatrec_call_seconds | task, outcome | action server: send to answer (ok, refused, unavailable) |
| chatrec_fallbacks_total | reason | action server: popular picks or "try again" instead of an answer |
| chatrec_retrain_seconds | outcome | learning worker: a whole retrain (promoted, rejected) |
| chatrec_gate_decisions_total | decision | learning worker: promoted / rejected candidates |
| chatrec_retrain_skipped_total | reason | learning worker: busy (lease held) or nothing new |
| chatrec_queue_depth | queue | workers: messages waiting in each queue |
"""

from __future__ import annotations

import errno
import logging
import time
from collections.abc import Callable, Iterable

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.core import REGISTRY, GaugeMetricFamily

from chatrec import settings

log = logging.getLogger(__name__)

FAST = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
TASK_SECONDS = Histogram("chatrec_task_seconds", "Time a task ran on the worker", ["task"], buckets=FAST)
CALL_SECONDS = Histogram("chatrec_call_seconds", "Action server: time from sending a task to its answer",
                         ["task", "outcome"], buckets=FAST)
FALLBACKS = Counter("chatrec_fallbacks", "Answers given without the recommender", ["reason"])
RETRAIN_SECONDS = Histogram("chatrec_retrain_seconds", "Time a whole retrain took", ["outcome"],
                            buckets=(10, 30, 60, 120, 300, 600, 1200, 1800, 3600))
GATE_DECISIONS = Counter("chatrec_gate_decisions", "Retrained candidates by gate decision", ["decision"])
RETRAIN_SKIPPED = Counter("chatrec_retrain_skipped", "Retrain tasks that did not fit", ["reason"])


class QueueDepth:
    """A collector: messages waiting in each queue, read from the broker at scrape time."""

    def __init__(self, queues: Iterable[str], depth: Callable[[str], int]) -> None:
        self.queues, self.depth = list(queues), depth

    def collect(self):
        family = GaugeMetricFamily("chatrec_queue_depth", "Messages waiting in a queue", labels=["queue"])
        for queue in self.queues:
            try:
                family.add_metric([queue], self.depth(queue))
            except Exception as error:  # a scrape must not fail because the broker is down
                log.warning("queue depth of %s unavailable: %s", queue, error)
        yield family


def serve(port: int, collectors: Iterable = (), attempts: int = 20) -> None:
    """Serve this process's metrics (and its prefork children's) on `port`. A port still held
    by a process that is going away (a restarted worker's last children) is retried for a
    few seconds; metrics never stop the process."""
    if settings.current().prometheus_multiproc_dir:
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    for collector in collectors:
        registry.register(collector)
    for attempt in range(attempts):
        try:
            start_http_server(port, addr=settings.current().metrics_addr, registry=registry)
            log.info("metrics on port %d", port)
            return
        except OSError as error:
            if error.errno != errno.EADDRINUSE or attempt == attempts - 1:
                log.error("cannot serve metrics on port %d: %s", port, error)
                return
            time.sleep(0.5)


def port_from_environment() -> int | None:
    return settings.current().metrics_port or None
