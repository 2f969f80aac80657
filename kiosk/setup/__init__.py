"""First run: the one-time set-up link that claims a fresh install."""
