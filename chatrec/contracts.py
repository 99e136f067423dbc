"""What crosses between Chat-Rec's processes, named once; every side imports it from here."""

from __future__ import annotations

# Whose conversation an HTTP request to Rasa is. The adapters send it; the router
# (launcher/router.py) and a reverse proxy (deploy/nginx.conf) keep each person on one Rasa
# process by it.
SENDER_HEADER = "X-Chatrec-Sender"
