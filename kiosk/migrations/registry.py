"""The one sqlite-utils Migrations object every migration registers with."""

from sqlite_utils.migrations import Migrations

migrations = Migrations("kiosk")
