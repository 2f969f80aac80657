"""The program: rooms, time blocks and sessions, edited in the browser."""
