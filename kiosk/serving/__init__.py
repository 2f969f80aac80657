"""What `kiosk serve` adds for production load; create_app() alone serves everything correctly."""
