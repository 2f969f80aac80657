"""The event itself: its settings and logo."""
