"""People: attendees added, edited, cancelled and checked in by hand."""
