"""The schema's versions: one sqlite-utils migration per change, never edited once it landed.

The migrations are in three modules, applied in the order they are defined: the check-in core's
first schema and its tuning (m0001-m0007), then running one's own event (m0008-m0013), then several
events in one install (m0014 onwards).
A new migration goes at the end of the last module, with the next number.
"""

# Imported for their @migrations() registrations, in the order they are applied.
from kiosk.migrations import core, organisers, events  # noqa: F401
from kiosk.migrations.registry import migrations


def migrate(db):
    """Bring DB's schema up to date."""
    migrations.apply(db)
