"""Celery configuration, from chatrec.settings (the environment).

Embedded default: kombu's filesystem transport (folders under the state
directory, polled every 20 ms) and a SQLite result backend: a real worker
process, no server. Production: Redis (`redis://`) or RabbitMQ (`amqp://`).
Connections fail fast so that a caller learns within about a second that
the broker is down instead of hanging.

Two queues keep long work away from conversations: every task a chat waits
for runs on `interactive`; retraining runs on `learning`, served by its
own worker process (`celery worker -Q learning`), so a fit never delays an
answer.
"""

from __future__ import annotations

from datetime import timedelta

from chatrec import settings
from chatrec.processes import INTERACTIVE, LEARNING

TASK_TIME_LIMIT = 60  # seconds; retrain sets its own
RESULT_EXPIRES = timedelta(hours=1)


def _filesystem_options() -> dict:
    folder = settings.current().state_folder() / "broker"
    for sub in ("queue", "processed", "control"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    return {
        "data_folder_in": str(folder / "queue"),
        "data_folder_out": str(folder / "queue"),
        "processed_folder": str(folder / "processed"),
        "control_folder": str(folder / "control"),  # kombu's default is ./control, in the working directory
        "store_processed": False,
        "polling_interval": 0.02,
    }


def configuration() -> dict:
    broker = settings.current().broker_url
    backend = settings.current().result_backend
    conf = {
        "broker_url": broker,
        "result_backend": backend,
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "result_expires": RESULT_EXPIRES,
        "task_default_queue": INTERACTIVE,
        "task_routes": {"chatrec.retrain": {"queue": LEARNING}},
        "task_time_limit": TASK_TIME_LIMIT,
        "task_soft_time_limit": TASK_TIME_LIMIT - 10,
        "worker_prefetch_multiplier": 1,
        "worker_hijack_root_logger": False,
        "broker_connection_timeout": 1.0,
        "broker_connection_retry_on_startup": True,
        "broker_connection_max_retries": 3,
        # Publishing while the broker is down: one quick retry, then an error.
        "task_publish_retry_policy": {"max_retries": 1, "interval_start": 0.2,
                                      "interval_step": 0.2, "interval_max": 0.2},
        "beat_schedule": {"retrain-nightly": {"task": "chatrec.retrain",
                                              "schedule": timedelta(hours=24)}},
    }
    if broker.startswith("filesystem://"):
        conf["broker_transport"] = "recommender.tasks.file_broker:Transport"  # atomic message files
        conf["broker_transport_options"] = _filesystem_options()
        # The filesystem transport has no event loop: with prefork or thread pools the
        # worker's loop picks up a message only every 2 s (measured: 2.0 s per call);
        # the solo pool answers in about 27 ms. Solo enforces no time limits: fine for
        # the embedded development default, while production runs prefork on Redis/RabbitMQ.
        conf["worker_pool"] = "solo"
    if broker.startswith(("redis://", "rediss://")):
        conf["broker_transport_options"] = {
            "visibility_timeout": settings.current().visibility_timeout,
            "socket_connect_timeout": 1, "socket_timeout": 5, "max_retries": 1,
        }
    if backend.startswith(("redis://", "rediss://")):
        conf["result_backend"] = f"recommender.tasks.redis_results:RedisBackend+{backend}"
        conf.update(redis_socket_connect_timeout=1, redis_socket_timeout=5, redis_retry_on_timeout=False,
                    # reconnecting the result consumer: one quick retry, not Celery's twenty
                    result_backend_transport_options={"retry_policy": {
                        "max_retries": 1, "interval_start": 0.2, "interval_step": 0.2, "interval_max": 0.2}})
    if backend.startswith("db+"):
        conf["database_engine_options"] = {"connect_args": {"timeout": 10}}
    return conf
