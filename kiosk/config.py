"""Every setting of Kiosk in one place: its name, its default and how to set it.

create_app reads them in this order, each overriding the one before: the defaults below,
the instance folder's config.py, the environment (KIOSK_<NAME>, its value parsed as JSON
when it parses, so KIOSK_LOGIN_LIMIT="[20, 300]" gives a list), then a test's mapping.
Two older environment names stay: KIOSK_INSTANCE picks the instance folder, and
KIOSK_DB the default database file (below config.py and KIOSK_DATABASE, as it always was).
"""

import os
from dataclasses import dataclass
from pathlib import Path

PREFIX = "KIOSK"
INSTANCE_ENVIRONMENT = "KIOSK_INSTANCE"
PACKAGE = Path(__file__).resolve().parent
TRANSLATIONS = PACKAGE / "translations"


@dataclass(frozen=True)
class Setting:
    """One configuration key: NAME in app.config, set by KIOSK_<NAME> in the environment."""

    name: str
    default: object
    help: str
    alias: str | None = None  # an older environment name that sets the default
    in_instance: str | None = None  # the default is this file name inside the instance folder

    @property
    def environment(self):
        """The environment variables that set this setting, the usual one first."""
        return [f"{PREFIX}_{self.name}"] + ([self.alias] if self.alias else [])


MiB = 1024 * 1024

SETTINGS = (
    Setting("SECRET_KEY", None, "Signs sessions and CSRF tokens; when unset, a random key kept in the "
            "instance folder's secret_key file, so logins survive a restart."),
    Setting("DATABASE", None, "The SQLite database file.", alias="KIOSK_DB", in_instance="kiosk.db"),
    Setting("PUBLIC_URL", None, "Base URL for pairing links, e.g. https://192.168.1.20:8443; when unset, "
            "the address `kiosk serve` wrote to the instance folder, else the request's."),
    Setting("IMPORT_FOLDER", None, "Where uploaded import files wait for confirmation.", in_instance="imports"),
    Setting("IMPORT_IN_CHILD", True, "Import previews and commits from the pages run in a child process, so the "
            "server does not grow by a file (the command line imports in its own process)."),
    Setting("IMPORT_MEMORY_MB", 1536, "The memory (address space) an import's child process may take; a file "
            "needing more is refused as too large."),
    Setting("IMPORT_SECONDS", 600, "The longest an import's child process may run before it is stopped."),
    Setting("LANGUAGES", ["nl", "en"], "The languages a page can be shown in."),
    Setting("BABEL_DEFAULT_LOCALE", "nl", "The language when neither the event nor the browser chooses one."),
    Setting("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS), "Where the compiled catalogs are."),
    Setting("MAX_CONTENT_LENGTH", 20 * MiB, "Largest request body, for imports; the scan API has its own, "
            "smaller limit."),
    Setting("LOGIN_LIMIT", (10, 300), "Failed logins per client address: (attempts, seconds)."),
    Setting("SCAN_GUESS_LIMIT", (30, 60), "Unknown codes one station may scan: (attempts, seconds)."),
    Setting("SCAN_GUESS_CLIENT_LIMIT", (60, 60), "Unknown codes from one client address, over all its "
            "stations: (attempts, seconds)."),
    Setting("BODY_DEADLINE_SECONDS", 30, "kiosk serve: a request body not in by then is answered 408 and its "
            "connection closed."),
    Setting("BODIES_PER_CLIENT", 3, "kiosk serve: request bodies one client address may be sending at once, "
            "per worker; past it the answer is 429."),
    Setting("WRITER_WAIT_SECONDS", 10.0, "How long a write waits for another writer before it answers "
            "\"busy, try again\" (503) instead of hanging."),
    Setting("SESSION_COOKIE_HTTPONLY", True, "Flask's: scripts cannot read the session cookie."),
    Setting("SESSION_COOKIE_SAMESITE", "Lax", "Flask's: the session cookie stays on this site."),
    Setting("REMEMBER_COOKIE_SAMESITE", "Lax", "Flask-Login's: the remember cookie stays on this site."),
    Setting("REGISTER_LIMIT", (20, 600), "Registration form posts per client address: (posts, seconds)."),
    Setting("SMTP_HOST", None, "The mail server tickets are sent through; when unset, mail waits in the outbox."),
    Setting("SMTP_PORT", 587, "The mail server's port."),
    Setting("SMTP_USER", None, "The mail server login, when it needs one."),
    Setting("SMTP_PASSWORD", None, "The mail server password."),
    Setting("SMTP_TLS", "starttls", "How to talk to the mail server: starttls, ssl or none."),
    Setting("SMTP_TIMEOUT", 30, "Seconds to wait for the mail server before trying again later."),
    Setting("MAIL_FROM", None, "The sender of tickets, e.g. 'G40 <aanmelden@example.org>'; when unset, "
            "kiosk@ and the public address's host."),
    Setting("WTF_CSRF_TIME_LIMIT", None, "Flask-WTF's: CSRF tokens do not expire, as a kiosk page stays "
            "open all day."),
)


def instance_path(environ=os.environ):
    """The instance folder KIOSK_INSTANCE names, or None for Flask's default.

    Flask's default is instance/ beside the kiosk package in a checkout, and
    <prefix>/var/kiosk-instance when Kiosk is installed.
    """
    return environ.get(INSTANCE_ENVIRONMENT) or None


def defaults(instance_folder, environ=os.environ):
    """The default of every setting, for an app whose instance folder is INSTANCE_FOLDER."""
    values = {}
    for setting in SETTINGS:
        value = setting.default
        if setting.in_instance:
            value = os.path.join(instance_folder, setting.in_instance)
        if setting.alias and environ.get(setting.alias):
            value = environ[setting.alias]
        values[setting.name] = value
    return values



def site_folder(name):
    """templates/ or static/: inside the package when installed from a wheel, else at the checkout's root."""
    installed = PACKAGE / name
    return installed if installed.is_dir() else PACKAGE.parent / name
