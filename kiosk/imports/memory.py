"""Letting go of a big import's objects a slice at a time, so the threads serving the door keep running.

Freeing a million rows in one go holds the interpreter lock for most of a second, and a full
garbage collection over them longer still; tests/test_import_steps.py times scans meanwhile.
"""

import time

SLICE = 5000


def release_gradually(*containers):
    """Empty each list or dict in CONTAINERS SLICE items at a time, letting other threads run in between."""
    for items in containers:
        if isinstance(items, dict):
            while items:
                for _ in range(min(SLICE, len(items))):
                    items.popitem()
                time.sleep(0)
        else:
            while items:
                del items[-SLICE:]
                time.sleep(0)
