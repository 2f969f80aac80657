"""The `kiosk` command line: exact forms other tools rely on."""

import re

import click
import pytest

from kiosk.cli import main


def all_commands(group, prefix=()):
    for name, command in group.commands.items():
        yield prefix + (name,), command
        if isinstance(command, click.Group):
            yield from all_commands(command, prefix + (name,))


@pytest.mark.parametrize("path", [path for path, _ in all_commands(main)], ids=" ".join)
def test_every_command_has_help(path):
    command = main
    for name in path:
        command = command.commands[name]
    assert command.help and command.help.strip()


def test_user_add(runner, db):
    result = runner.invoke(args=["user", "add", "o@example.org", "--role", "organiser", "--password", "long enough"])
    assert result.exit_code == 0, result.output
    assert db.execute("SELECT role FROM users").fetchone()[0] == "organiser"
    again = runner.invoke(args=["user", "add", "o@example.org", "--role", "organiser", "--password", "long enough"])
    assert again.exit_code == 1


def test_station_add_prints_url_and_token(runner):
    result = runner.invoke(args=["station", "add", "Ingang 1", "--mode", "entrance"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert re.fullmatch(r"http://kiosk\.test/pair/[\w-]+", lines[0])
    assert re.fullmatch(r"token: kst_[\w-]+", lines[1])


def test_station_add_room_needs_an_existing_room(runner):
    result = runner.invoke(args=["station", "add", "Deur", "--mode", "room", "--room", "Nowhere"])
    assert result.exit_code == 1


def test_demo_refuses_to_overwrite(runner):
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    assert "demo event built" in first.output
    assert runner.invoke(args=["demo"]).exit_code == 1
