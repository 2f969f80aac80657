"""Which tokens belong to a paired station, remembered for a few seconds per worker."""

import collections
import threading
import time

from kiosk.data.accounts import hash_token, station_for_token
from kiosk.db import get_db


class PairedStations:
    """Answers "is TOKEN a paired, unrevoked station's?" for the serving layer's shortcuts.

    What it buys: a station skips the queue for a place (admission) and a scanner app's scan
    skips Flask (fastpath), so the token that earns the shortcut must be a real station's, not
    any value under the cookie's name. The database answers once; a known token's hash is then
    remembered for LIFETIME seconds, so a check-in pays a hash and a dict lookup, not a query
    (benchmarks/run.py measures the check-ins that ask). Only known tokens are remembered:
    made-up ones cannot fill the memory, and a new station counts from its first request.
    Access itself is still decided per request by Flask (kiosk.accounts.access), so a revoked
    station loses only the shortcut up to LIFETIME seconds late, never its lockout.
    """

    LIFETIME = 10.0
    REMEMBERED = 512  # more than a venue's stations and their devices

    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()
        self.known = collections.OrderedDict()  # token hash -> when the database last said yes

    def paired(self, token):
        """True when TOKEN is the API token or a paired device's token of an active station."""
        if not token or len(token) > 200:
            return False
        digest, now = hash_token(token), time.monotonic()
        with self.lock:
            seen = self.known.get(digest)
            if seen is not None and now - seen < self.LIFETIME:
                return True
        with self.app.app_context():
            station = station_for_token(get_db(), token)
        with self.lock:
            if station is None:
                self.known.pop(digest, None)
                return False
            self.known[digest] = now
            self.known.move_to_end(digest)
            while len(self.known) > self.REMEMBERED:
                self.known.popitem(last=False)
        return True
