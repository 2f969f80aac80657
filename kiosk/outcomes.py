"""What a scan (or a count, a clear, an undo) comes to: the one list of outcomes."""

from enum import StrEnum


class Outcome(StrEnum):
    """An answer's outcome; stored in scans.outcome and sent by the API as its value."""

    CHECKED_IN = "checked_in"
    ALREADY = "already"
    UNKNOWN = "unknown"
    REPLACED = "replaced"
    CANCELLED = "cancelled"
    FULL = "full"
    CHECKED_OUT = "checked_out"
    NOT_INSIDE = "not_inside"
    UNDONE = "undone"  # an undo scan; also the answer to an undo at the kiosk
    NOT_UNDONE = "not_undone"  # an undo that found the check-in undone already (never stored)
    COUNTED = "counted"  # a +1/-1 without a badge
    CLEARED = "cleared"  # a room emptied, by a host or the schedule
    TOO_MANY = "too_many"  # the guess limit refused the scan (never stored)
    QUEUED = "queued"  # the kiosk saved the scan offline (shown by the page, never stored)
    ERROR = "error"  # the kiosk could not send the scan (shown by the page, never stored)


# The outcomes a badge scan is answered with: the API's documented enum.
SCAN_OUTCOMES = (
    Outcome.CHECKED_IN, Outcome.ALREADY, Outcome.UNKNOWN, Outcome.REPLACED, Outcome.CANCELLED,
    Outcome.FULL, Outcome.CHECKED_OUT, Outcome.NOT_INSIDE,
)
