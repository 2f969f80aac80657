"""Rooms: live counts against capacity, the wall, and the door."""
