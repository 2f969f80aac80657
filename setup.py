"""The wheel's build step: the site's templates, static files and compiled catalogs go into the package.

templates/ and static/ stay at the repository's root, where a designer finds them; an
installed Kiosk finds them inside its package (kiosk.config.site_folder). static/vendor/
is left out: `./dev setup` builds it from npm. Metadata lives in pyproject.toml.
"""

import shutil
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
SITE_FOLDERS = ("templates", "static")
NOT_SHIPPED = ROOT / "static" / "vendor"


def _left_out(folder, names):
    """shutil.copytree's ignore: the npm-built vendor folder and editor or OS litter."""
    return [
        name for name in names
        if Path(folder, name) == NOT_SHIPPED or name in ("__pycache__", ".DS_Store") or name.endswith("~")
    ]


class BuildWithSite(build_py):
    """build_py, then the site folders and the catalogs compiled from their .po files."""

    def run(self):
        package = Path(self.build_lib) / "kiosk"
        if not self.editable_mode:  # build/ outlives a build: a file removed since must not ship
            shutil.rmtree(package, ignore_errors=True)
        super().run()
        if self.editable_mode:  # an editable install serves the checkout's own folders
            return
        for name in SITE_FOLDERS:
            shutil.copytree(ROOT / name, package / name, ignore=_left_out, dirs_exist_ok=True)
        for po_path in (ROOT / "kiosk" / "translations").glob("*/LC_MESSAGES/*.po"):
            mo_path = package / po_path.relative_to(ROOT / "kiosk").with_suffix(".mo")
            mo_path.parent.mkdir(parents=True, exist_ok=True)
            with po_path.open("rb") as po_file:
                catalog = read_po(po_file)
            with mo_path.open("wb") as mo_file:
                write_mo(mo_file, catalog)


setup(cmdclass={"build_py": BuildWithSite})
