"""Accounts: logging in, roles and who may open which page."""
