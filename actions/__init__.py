"""The Rasa SDK action server: thin actions that read slots and entities,
run the recommender's Celery tasks and format the replies.

Start it with `python -m rasa_sdk --actions actions` (the stack launcher,
`python -m launcher.stack`, does this for you). With CHATREC_METRICS_PORT set it
also serves Prometheus metrics (recommender/tasks/metrics.py).
"""

from recommender.tasks import metrics as _metrics

_port = _metrics.port_from_environment()
if _port:
    _metrics.serve(_port)
