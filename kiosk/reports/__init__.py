"""The event report: figures, charts and exports for organisers."""
