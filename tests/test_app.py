"""The app's settings: one table of defaults, read in a fixed order (what kiosk/serving adds is in test_serving)."""

import re
from pathlib import Path

from flask import Flask

from kiosk import config, create_app

ROOT = Path(__file__).resolve().parent.parent


def test_every_setting_read_in_kiosk_is_in_the_settings_table():
    """kiosk/config.py is the one place to look: no module reads a key it does not list (Flask's own aside)."""
    flask_defaults = set(Flask.default_config)
    listed = {setting.name for setting in config.SETTINGS}
    read = set()
    for path in (ROOT / "kiosk").rglob("*.py"):
        read.update(re.findall(r"config(?:\[|\.get\(|\.setdefault\()[\"']([A-Z][A-Z0-9_]+)[\"']", path.read_text()))
    assert read - flask_defaults <= listed
    assert "SCAN_GUESS_LIMIT" in read and "DATABASE" in read
    for setting in config.SETTINGS:
        assert setting.help and setting.environment[0] == f"KIOSK_{setting.name}"


def test_defaults_then_instance_config_then_environment_then_test_config(tmp_path, monkeypatch):
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "config.py").write_text("PUBLIC_URL = 'https://from-file'\nLOGIN_LIMIT = (1, 1)\nLANGUAGES = ['en']\n")
    monkeypatch.setenv("KIOSK_INSTANCE", str(instance))
    monkeypatch.setenv("KIOSK_LOGIN_LIMIT", "[2, 2]")
    monkeypatch.setenv("KIOSK_LANGUAGES", '["en", "nl"]')
    app = create_app({"DATABASE": str(tmp_path / "test.db"), "LANGUAGES": ["nl"]})
    assert app.instance_path == str(instance)
    assert app.config["SCAN_GUESS_LIMIT"] == (30, 60)  # the default
    assert app.config["PUBLIC_URL"] == "https://from-file"  # instance config.py
    assert app.config["LOGIN_LIMIT"] == [2, 2]  # the environment, parsed as JSON
    assert app.config["LANGUAGES"] == ["nl"]  # the test config, last
    assert app.config["IMPORT_FOLDER"] == str(instance / "imports")
    assert app.config["SECRET_KEY"] == (instance / "secret_key").read_text().strip()


def test_kiosk_db_sets_the_default_database_as_it_always_did(tmp_path, monkeypatch):
    """KIOSK_DB names the database; config.py and KIOSK_DATABASE still override it, as before."""
    instance = tmp_path / "instance"
    monkeypatch.setenv("KIOSK_INSTANCE", str(instance))
    monkeypatch.delenv("KIOSK_DB", raising=False)
    monkeypatch.delenv("KIOSK_DATABASE", raising=False)
    assert create_app().config["DATABASE"] == str(instance / "kiosk.db")
    monkeypatch.setenv("KIOSK_DB", str(tmp_path / "db.db"))
    assert create_app().config["DATABASE"] == str(tmp_path / "db.db")
    (instance / "config.py").write_text(f"DATABASE = {str(tmp_path / 'file.db')!r}\n")
    assert create_app().config["DATABASE"] == str(tmp_path / "file.db")
    monkeypatch.setenv("KIOSK_DATABASE", str(tmp_path / "env.db"))
    assert create_app().config["DATABASE"] == str(tmp_path / "env.db")


def test_a_checkout_keeps_its_instance_folder_templates_and_static_files_at_the_root(monkeypatch):
    monkeypatch.delenv("KIOSK_INSTANCE", raising=False)
    assert config.instance_path() is None
    assert Flask("kiosk").instance_path == str(ROOT / "instance")  # what create_app then gets from Flask
    assert config.site_folder("templates") == ROOT / "templates"
    assert config.site_folder("static") == ROOT / "static"
