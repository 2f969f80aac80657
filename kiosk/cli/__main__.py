"""`python -m kiosk.cli serve`, as the live-server test fixture and the benchmarks start it."""

from kiosk.cli import main

main()
