"""Imports: attendees and the program from the files organisers have."""
