"""Chat-Rec: settings shared by every process (chatrec/settings.py)."""
