"""What a user installs: the lock file ./dev installs from, and a wheel that serves pages on its own."""

import os
import re
import subprocess
import sys
import time
import tomllib
import urllib.request
import zipfile
from importlib.metadata import version
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from conftest import free_port

ROOT = Path(__file__).resolve().parent.parent
LOCKS = {"requirements.lock": [], "requirements-test.lock": ["test"]}


def locked_versions(name):
    """{canonical package name: version} pinned in the lock file NAME."""
    text = (ROOT / name).read_text()
    return {canonicalize_name(package): pinned for package, pinned in re.findall(r"^([\w.-]+)==(\S+)", text, re.M)}


def project():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


@pytest.mark.parametrize("lock, extras", LOCKS.items())
def test_the_lock_satisfies_pyproject(lock, extras):
    """A dependency added to pyproject.toml without `./dev lock` fails here, not on a fresh clone."""
    pinned = locked_versions(lock)
    wanted = list(project()["dependencies"])
    for extra in extras:
        wanted += project()["optional-dependencies"][extra]
    for line in wanted:
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        assert name in pinned, f"{name} is not in {lock}: run ./dev lock"
        assert requirement.specifier.contains(pinned[name], prereleases=True), f"{lock} pins {name}=={pinned[name]}"
    for line in (ROOT / lock).read_text().splitlines():
        if "==" in line:
            assert line.endswith("\\"), f"{line}: every pin carries its hashes"


def test_the_packages_whose_private_apis_kiosk_uses_are_pinned_and_installed_as_locked():
    """The serving layer reaches into werkzeug and granian: only the locked versions are known to work."""
    pinned = locked_versions("requirements.lock")
    for name in ("werkzeug", "granian"):
        assert version(name) == pinned[name], f"{name} {version(name)} is installed, the lock says {pinned[name]}"


def test_dev_installs_from_the_lock():
    script = (ROOT / "dev").read_text()
    assert "-r requirements-test.lock" in script and "--no-deps -e ." in script


def run(args, **options):
    result = subprocess.run(args, capture_output=True, text=True, timeout=300, **options)
    assert result.returncode == 0, f"{args}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout


def get(url):
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, response.headers.get_content_type(), response.read().decode()


@pytest.mark.slow
def test_the_wheel_installed_into_an_empty_venv_serves_the_login_page_with_its_css(tmp_path):
    wheelhouse = tmp_path / "wheelhouse"
    run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(wheelhouse), str(ROOT)])
    [wheel] = wheelhouse.glob("kiosk-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "kiosk/templates/base.html" in names and "kiosk/static/css/kiosk.css" in names
    assert "kiosk/translations/nl/LC_MESSAGES/messages.mo" in names
    assert not [name for name in names if name.startswith("kiosk/static/vendor/")]

    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", str(venv)])
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    run([*pip, "--require-hashes", "-r", str(ROOT / "requirements.lock")])
    run([*pip, "--no-deps", str(wheel)])

    # Away from the checkout, so only the installed package can answer.
    environment = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "KIOSK_DB")}
    environment["KIOSK_INSTANCE"] = str(tmp_path / "instance")
    kiosk = str(venv / "bin" / "kiosk")
    place = run([str(venv / "bin" / "python"), "-c", "import kiosk; print(kiosk.__file__)"], cwd=tmp_path)
    assert place.startswith(str(venv))
    assert "demo event built" in run([kiosk, "demo"], cwd=tmp_path, env=environment)

    port = free_port()
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen([kiosk, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
                              cwd=tmp_path, env=environment, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert server.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                status, kind, page = get(f"http://127.0.0.1:{port}/login")
                break
            except OSError:
                assert time.monotonic() < deadline, "kiosk serve did not answer in 30 s"
                time.sleep(0.2)
        assert (status, kind) == (200, "text/html")
        assert "Inloggen" in page  # Dutch by default: the compiled catalog was found
        stylesheets = re.findall(r'<link rel="stylesheet" href="([^"]+)"', page)
        assert stylesheets
        for href in stylesheets:
            status, kind, css = get(f"http://127.0.0.1:{port}{href}")
            assert (status, kind) == (200, "text/css") and css.strip()
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()
