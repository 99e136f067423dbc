"""The embedded broker under concurrent publishing: a consumer only ever reads whole messages."""

from __future__ import annotations

import threading
import time

from kombu import Connection

from recommender.tasks import file_broker
from recommender.tasks.file_broker import Transport

PUBLISHERS, EACH = 4, 25


def test_concurrent_publishers_never_hand_a_consumer_a_partial_message(tmp_path, monkeypatch):
    def slow_dumps(payload):  # a slow writer: kombu's own transport shows the empty file meanwhile
        time.sleep(0.02)
        return dumps(payload)

    dumps = file_broker.dumps
    monkeypatch.setattr(file_broker, "dumps", slow_dumps)
    options = {"data_folder_in": str(tmp_path), "data_folder_out": str(tmp_path),
               "processed_folder": str(tmp_path / "done"), "store_processed": False,
               "polling_interval": 0.001, "control_folder": str(tmp_path / "control")}
    received: list[dict] = []

    def publish(number: int) -> None:
        with Connection("filesystem://", transport=Transport, transport_options=options) as connection:
            queue = connection.SimpleQueue("interactive")
            for i in range(EACH):
                queue.put({"publisher": number, "i": i})
            queue.close()

    publishers = [threading.Thread(target=publish, args=(n,)) for n in range(PUBLISHERS)]
    for thread in publishers:
        thread.start()
    with Connection("filesystem://", transport=Transport, transport_options=options) as connection:
        queue = connection.SimpleQueue("interactive")
        while len(received) < PUBLISHERS * EACH:  # a partial file would raise JSONDecodeError here
            message = queue.get(timeout=60)
            received.append(message.payload)
            message.ack()
        queue.close()
    for thread in publishers:
        thread.join()
    assert sorted((m["publisher"], m["i"]) for m in received) == [(n, i) for n in range(PUBLISHERS)
                                                                  for i in range(EACH)]
