"""The app object itself: how its answers reach the WSGI server."""

from werkzeug.test import EnvironBuilder


def wsgi_body(app, path, method="GET", **builder_args):
    """(status, the WSGI iterable the app returns) for one request, as a server would call it."""
    environ = EnvironBuilder(path=path, method=method, **builder_args).get_environ()
    seen = {}
    iterable = app(environ, lambda status, headers, exc_info=None: seen.setdefault("status", status))
    return seen["status"], iterable


def test_an_answer_in_memory_goes_to_the_server_as_one_piece(app):
    """A list, so granian writes headers and body in one write (not two, which Nagle can delay)."""
    status, body = wsgi_body(app, "/api/v1/openapi.json")
    assert status.startswith("200")
    assert isinstance(body, list) and len(body) == 1 and body[0].startswith(b"{")
    status, body = wsgi_body(app, "/api/v1/openapi.json", method="HEAD")
    assert status.startswith("200") and body == []


def test_a_file_is_still_sent_as_a_stream(app):
    """Static files (the QR decoder is megabytes) go out from the file, not collected into memory first."""
    status, body = wsgi_body(app, "/static/css/kiosk.css")
    assert status.startswith("200")
    assert not isinstance(body, list)
    assert b"".join(body)
    body.close()
