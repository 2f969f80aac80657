"""The `kiosk` command line: exact forms other tools rely on."""

import re

import click
from click.testing import CliRunner
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


def test_user_logout_ends_every_login_of_that_user(runner, db):
    from kiosk.data import accounts

    host = accounts.add_user(db, "host@example.org", "long enough", "host")
    other = accounts.add_user(db, "other@example.org", "long enough", "host")
    tablet, laptop, others = (accounts.start_login(db, user["id"]) for user in (host, host, other))
    result = runner.invoke(args=["user", "logout", "host@example.org"])
    assert result.exit_code == 0, result.output
    assert result.output == "logins ended for host@example.org: 2\n"
    assert accounts.user_for_login(db, tablet) is None and accounts.user_for_login(db, laptop) is None
    assert accounts.user_for_login(db, others) is not None
    assert db.execute("SELECT actor, action, detail FROM audit_log ORDER BY id DESC").fetchone() == (
        "cli", "end logins", "host@example.org: 2")
    unknown = runner.invoke(args=["user", "logout", "nobody@example.org"])
    assert unknown.exit_code == 1 and "no user with e-mail nobody@example.org" in unknown.output


def test_kiosk_help_lists_only_kiosk_options_and_touches_no_database(tmp_path, monkeypatch):
    """`kiosk --help` is Kiosk's own: no Flask -e/-A/--debug, and no app is built for it."""
    monkeypatch.setenv("KIOSK_INSTANCE", str(tmp_path / "instance"))
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0, result.output
    assert "Kiosk: event check-in" in result.output
    for flask_text in ("--env-file", "--app", "--debug", "dotenv", "FLASK_"):
        assert flask_text not in result.output
    options = re.findall(r"^\s+(-\S+)", result.output.split("Options:")[1].split("Commands:")[0], re.M)
    assert options == ["--help"]
    commands = re.findall(r"^  (\S+)  ", result.output.split("Commands:")[1], re.M)
    assert commands == ["backup", "badges", "demo", "event", "import", "init-db", "mail", "purge", "registration",
                        "report", "serve", "station", "token", "user"]
    assert not (tmp_path / "instance").exists()


@pytest.mark.parametrize("path", [path for path, _ in all_commands(main)], ids=" ".join)
def test_every_command_prints_its_help(path):
    result = CliRunner().invoke(main, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Usage: main {' '.join(path)} [OPTIONS]")
    assert "--debug" not in result.output and "--app" not in result.output


def test_kiosk_command_builds_the_app_from_the_environment(tmp_path, monkeypatch):
    """Run as the console script does: the app comes from KIOSK_INSTANCE and KIOSK_DB."""
    database = tmp_path / "elsewhere.db"
    monkeypatch.setenv("KIOSK_INSTANCE", str(tmp_path / "instance"))
    monkeypatch.setenv("KIOSK_DB", str(database))
    result = CliRunner().invoke(main, ["init-db"])
    assert result.exit_code == 0, result.output
    assert result.output == f"database ready: {database}\n"
    assert database.exists() and (tmp_path / "instance" / "secret_key").exists()
    demo = CliRunner().invoke(main, ["demo"])
    assert demo.exit_code == 0 and demo.output.endswith(f"rooms in {database}\n")


def test_a_room_door_without_its_room_says_what_is_missing(runner):
    """Defect 10: it said "no room named None"."""
    result = runner.invoke(args=["station", "add", "Door", "--mode", "room"])
    assert result.exit_code == 1
    assert "needs its room: add --room NAME" in result.output and "None" not in result.output
