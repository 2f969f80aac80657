"""Stations: the tablets and scanners at the doors, and pairing them."""
