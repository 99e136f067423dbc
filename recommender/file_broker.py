"""kombu's filesystem transport (the embedded broker) with atomic writes.

kombu creates a message file and then writes into it, while a consumer
renames and reads any `*.msg` file it finds without taking the writer's
lock: under concurrent publishing a worker read an empty file and stopped
("Unrecoverable error: JSONDecodeError", seen here with 50 concurrent
conversations). Here a message is written under a temporary name and
renamed into place, so a consumer only ever sees whole messages.
"""

from __future__ import annotations

import os
import uuid
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = os.path.join(self.data_folder_out, f".{uuid.uuid4()}.partial")  # no consumer matches it
        try:
            with open(partial, "wb") as handle:
                handle.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as error:
            raise ChannelError(f"Cannot add file {final!r} to directory") from error


class Transport(filesystem.Transport):
    Channel = Channel
