"""Rate limits: login attempts and guessed badge codes, per key and per client address."""

from flask import current_app, has_request_context, request

from kiosk.data import limits as data
from kiosk.db import get_db

# A guess (an unknown badge code) counts against the station and against the client's
# address, so neither many stations on one laptop nor one station on many laptops can guess.
GUESS_CLIENT_BUCKET = "guess-client"


def client_key(environ=None):
    """The requesting client's address, the key for per-client limits: from the WSGI ENVIRON
    when given (the scan fast path has no request), else the current request's."""
    return (environ if environ is not None else request.environ).get("REMOTE_ADDR") or "?"


def _limits(bucket, key, limit, client):
    """The (bucket, key, limit) triples a hit in BUCKET counts against: its own, and for
    guessing also the client's address (CLIENT, by default the current request's)."""
    wanted = []
    if bucket == "guess":
        if client is None and has_request_context():
            client = client_key()
        if client is not None:
            wanted.append((GUESS_CLIENT_BUCKET, str(client), current_app.config["SCAN_GUESS_CLIENT_LIMIT"]))
    wanted.append((bucket, str(key), limit))
    return wanted


def limiter_hit(bucket, key, *, limit, client=None):
    """Count one hit for KEY in BUCKET; True when it goes over LIMIT = (hits, seconds).

    A hit in the 'guess' bucket (per station) also counts for the client's address (CLIENT,
    by default the current request's), in the same transaction.
    """
    return data.count_hits(get_db(), _limits(bucket, key, limit, client))


def limiter_blocked(bucket, key, *, limit, client=None):
    """True while KEY in BUCKET is over LIMIT = (hits, seconds); counts nothing.

    The 'guess' bucket is also blocked while the client's address (CLIENT, by default the
    current request's) is over its own limit.
    """
    return data.any_blocked(get_db(), _limits(bucket, key, limit, client))
