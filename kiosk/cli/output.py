"""What every command prints on failure."""

import sys

import click


def fail(message):
    """Print MESSAGE to stderr and exit with status 1."""
    click.echo(message, err=True)
    sys.exit(1)
