"""Rate-limit windows: hits per bucket and key within a window of seconds."""

import time

from kiosk.db import immediate


def count_hits(db, wanted):
    """Count one hit for each (bucket, key, (hits, seconds)) in WANTED, in one write transaction.

    True when any of them goes over its limit; every one is counted either way.
    """
    now = time.time()
    with immediate(db):
        over = [_hit(db, bucket, str(key), limit, now) for bucket, key, limit in wanted]
    return any(over)


def _hit(db, bucket, key, limit, now):
    """Count one hit for KEY in BUCKET; the caller holds the write transaction."""
    max_hits, seconds = limit
    row = db.execute("SELECT window_start, hits FROM rate_limits WHERE bucket = ? AND key = ?", [bucket, key]).fetchone()
    if row is None or now - row[0] > seconds:
        db.execute(
            "INSERT OR REPLACE INTO rate_limits (bucket, key, window_start, hits) VALUES (?, ?, ?, 1)",
            [bucket, key, now],
        )
        return False
    db.execute("UPDATE rate_limits SET hits = hits + 1 WHERE bucket = ? AND key = ?", [bucket, key])
    return row[1] + 1 > max_hits


def any_blocked(db, wanted):
    """True while any (bucket, key, (hits, seconds)) in WANTED is over its limit; counts nothing.

    One query for all of them: this runs before every scan.
    """
    limits = {(bucket, str(key)): limit for bucket, key, limit in wanted}
    pairs = list(limits)
    rows = db.execute(
        "SELECT bucket, key, window_start, hits FROM rate_limits WHERE "
        + " OR ".join(["(bucket = ? AND key = ?)"] * len(pairs)),
        [value for pair in pairs for value in pair],
    ).fetchall()
    now = time.time()
    for row_bucket, row_key, window_start, hits in rows:
        max_hits, seconds = limits[(row_bucket, row_key)]
        if now - window_start <= seconds and hits >= max_hits:
            return True
    return False
