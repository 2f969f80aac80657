"""Rate limits: login attempts and guessed badge codes, per key and per client address."""

import time

from flask import current_app, has_request_context, request

from kiosk.db import get_db, immediate

# A guess (an unknown badge code) counts against the station and against the client's
# address, so neither many stations on one laptop nor one station on many laptops can guess.
GUESS_CLIENT_BUCKET = "guess-client"


def client_key(environ=None):
    """The requesting client's address, the key for per-client limits: from the WSGI ENVIRON
    when given (the scan fast path has no request), else the current request's."""
    return (environ if environ is not None else request.environ).get("REMOTE_ADDR") or "?"


def _client_limit(bucket, client):
    """(bucket, client address, limit) for the per-client limit that goes with BUCKET, or None.

    Only guessing has one. CLIENT is the address; by default, the current request's.
    """
    if bucket != "guess":
        return None
    if client is None:
        if not has_request_context():
            return None
        client = client_key()
    return GUESS_CLIENT_BUCKET, str(client), current_app.config["SCAN_GUESS_CLIENT_LIMIT"]


def limiter_hit(bucket, key, *, limit, client=None):
    """Count one hit for KEY in BUCKET; True when it goes over LIMIT = (hits, seconds).

    A hit in the 'guess' bucket (per station) also counts for the client's address (CLIENT,
    by default the current request's), in the same transaction.
    """
    per_client = _client_limit(bucket, client)
    with immediate(get_db()):
        over_client = _hit(*per_client) if per_client else False
        return _hit(bucket, key, limit) or over_client


def _hit(bucket, key, limit):
    """Count one hit; the caller holds the write transaction."""
    max_hits, seconds = limit
    now = time.time()
    db = get_db()
    row = db.execute("SELECT window_start, hits FROM rate_limits WHERE bucket = ? AND key = ?", [bucket, str(key)]).fetchone()
    if row is None or now - row[0] > seconds:
        db.execute(
            "INSERT OR REPLACE INTO rate_limits (bucket, key, window_start, hits) VALUES (?, ?, ?, 1)",
            [bucket, str(key), now],
        )
        return False
    db.execute("UPDATE rate_limits SET hits = hits + 1 WHERE bucket = ? AND key = ?", [bucket, str(key)])
    return row[1] + 1 > max_hits


def limiter_blocked(bucket, key, *, limit, client=None):
    """True while KEY in BUCKET is over LIMIT = (hits, seconds); counts nothing.

    The 'guess' bucket is also blocked while the client's address (CLIENT, by default the
    current request's) is over its own limit. Both are read in one query: this runs before
    every scan.
    """
    wanted = {(bucket, str(key)): limit}
    per_client = _client_limit(bucket, client)
    if per_client:
        wanted[per_client[:2]] = per_client[2]
    pairs = list(wanted)
    rows = get_db().execute(
        "SELECT bucket, key, window_start, hits FROM rate_limits WHERE "
        + " OR ".join(["(bucket = ? AND key = ?)"] * len(pairs)),
        [value for pair in pairs for value in pair],
    ).fetchall()
    now = time.time()
    for row_bucket, row_key, window_start, hits in rows:
        max_hits, seconds = wanted[(row_bucket, row_key)]
        if now - window_start <= seconds and hits >= max_hits:
            return True
    return False
