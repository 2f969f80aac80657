"""The audit log: who changed what, and when."""

from kiosk.db import now_utc


def record(db, actor, action, detail=""):
    """Append one line to the audit log (inside the caller's transaction when there is one)."""
    db.execute(
        "INSERT INTO audit_log (created_at, actor, action, detail) VALUES (?, ?, ?, ?)",
        [now_utc(), actor or "?", action, str(detail)[:1000]],
    )

