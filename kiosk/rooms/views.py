"""Rooms: live occupancy against capacity for host tablets, room doors and the organiser wall.

Live views poll (htmx `every 500ms`) instead of holding server-sent event streams: a WSGI
server gives each open SSE stream a Python thread for as long as the page is open, so 100
host tablets would need 100 threads (the server runs a few workers of a few threads). A poll carries the version it
shows (`?v=`); an unchanged room answers 204 without rendering, which htmx leaves as it is.
A changed one is rendered once per version and process and served to every tablet showing
that room. Keep-alive connections wait in granian's (Rust) event loop between polls, not in
a Python thread.
benchmarks/bench_rooms.py measures what this costs a check-in.
"""

from flask import Blueprint, Response, abort, current_app, g, make_response, redirect, render_template, request, url_for
from flask_babel import get_locale

from kiosk.accounts.access import host_required, signed_in_user_id, station_required
from kiosk.checkin import service as checkin
from kiosk.checkin.views import kiosk_context
from kiosk.data import rooms as rooms_data
from kiosk.db import get_db
from kiosk.rooms import service
from kiosk.web.rendering import render, wants_fragment

bp = Blueprint("rooms", __name__, url_prefix="/rooms")


def unchanged(version):
    """A 204 for an htmx poll that already shows VERSION, else None."""
    if version is not None and wants_fragment() and request.args.get("v") == version:
        response = Response(status=204)
        response.headers["Vary"] = "HX-Request"
        response.headers["Cache-Control"] = "no-store"
        return response
    return None


FRAGMENT_CACHE_SIZE = 512
_fragments = {}


def shared_fragment(kind, version, build):
    """The htmx response for a live fragment that is the same for every viewer of VERSION, rendered once per process.

    Every tablet at a room polls the same fragment; without this, each of them would render it
    again after every scan. Only fragments without per-user content (no forms, no CSRF token) go here.
    """
    key = (current_app.config["DATABASE"], kind, version, str(get_locale()))
    html = _fragments.get(key)
    if html is None:
        html = build()
        if len(_fragments) >= FRAGMENT_CACHE_SIZE:
            _fragments.clear()
        _fragments[key] = html
    response = make_response(html)
    response.headers["Vary"] = "HX-Request"
    return response


@bp.get("/")
@host_required
def index():
    """Every room with inside now, capacity and places left, linking to its host page."""
    db = get_db()
    if (response := unchanged(rooms_data.wall_version(db))) is not None:
        return response
    return render("rooms/index.html", "rooms/_room_list.html", wall=rooms_data.wall(db))


@bp.get("/wall")
@host_required
def wall():
    """The organiser wall: every room on one screen, the running block first, live."""
    db = get_db()
    version = rooms_data.wall_version(db)
    if (response := unchanged(version)) is not None:
        return response
    if wants_fragment():
        return shared_fragment("wall", version, lambda: render_template("rooms/_wall_rooms.html", wall=rooms_data.wall(db)))
    return render("rooms/wall.html", "rooms/_wall_rooms.html", wall=rooms_data.wall(db))


@bp.get("/<int:room_id>")
@host_required
def room(room_id):
    """The host tablet for one room: the big number, sessions, latest in, +1/-1 and scanning."""
    db = get_db()
    version = rooms_data.room_version(db, room_id)
    if version is None:
        abort(404)
    if (response := unchanged(version)) is not None:
        return response
    if wants_fragment():
        return shared_fragment(
            ("room", room_id), version, lambda: render_template("rooms/_room_live.html", room=rooms_data.room_live(db, room_id))
        )
    live = rooms_data.room_live(db, room_id)
    shown = request.args.get("result", type=int)  # the answer a no-JavaScript scan redirects to
    result = checkin.stored_result(shown, room_id=room_id) if shown else None
    return render("rooms/room.html", "rooms/_room_live.html", room=live, result=result)


def _after_change(room_id):
    """The answer to a host's POST: the live fragment for htmx, a 303 to the host page otherwise."""
    if not wants_fragment():
        return redirect(url_for("rooms.room", room_id=room_id), code=303)
    return render("rooms/room.html", "rooms/_room_live.html", room=rooms_data.room_live(get_db(), room_id))


def _room_or_404(db, room_id):
    room = rooms_data.get_room(db, room_id)
    if room is None:
        abort(404)
    return room


def _delta():
    delta = request.form.get("delta", type=int)
    if delta not in (1, -1):
        abort(400)
    return delta


@bp.post("/<int:room_id>/count")
@host_required
def count(room_id):
    """+1 or -1 for someone without a badge (an anonymous scan)."""
    db = get_db()
    _room_or_404(db, room_id)
    service.count(db, room_id, _delta(), by=signed_in_user_id())
    return _after_change(room_id)


@bp.post("/<int:room_id>/clear")
@host_required
def clear(room_id):
    """Empty the room at the end of a session: everyone still counted there is moved out."""
    db = get_db()
    _room_or_404(db, room_id)
    service.empty(db, room_id, by=signed_in_user_id())
    return _after_change(room_id)


@bp.post("/<int:room_id>/scan")
@host_required
def scan(room_id):
    """A host scans (handheld scanner or typed code) at the door; 'Let in anyway' sends override=1."""
    db = get_db()
    _room_or_404(db, room_id)
    form = request.form
    attendee_id = form.get("attendee_id", type=int)
    result = checkin.scan(
        None,  # a host at the door, without a station
        room_id=room_id,
        code=form.get("code", "")[:200] if attendee_id is None else None,
        attendee_id=attendee_id,
        direction="out" if form.get("direction") == "out" else "in",
        override=form.get("override") == "1",
        by=signed_in_user_id(),
    )
    if not wants_fragment():
        return redirect(url_for("rooms.room", room_id=room_id, result=result.scan_id), code=303)
    return render(
        "rooms/room.html", "rooms/_scan_answer.html", result=result,
        room=rooms_data.room_live(db, room_id), oob=True,
    )


@bp.get("/sessions/<int:session_id>")
@host_required
def session(session_id):
    """One session: who is inside its room now and who registered but has not come."""
    db = get_db()
    attendance = rooms_data.session_attendance(db, session_id)
    if attendance is None:
        abort(404)
    room = attendance["session"]["room_id"]
    version = rooms_data.room_version(db, room) if room else None
    if (response := unchanged(version)) is not None:
        return response
    return render("rooms/session.html", "rooms/_session_people.html", attendance=attendance, version=version)


def _door_station():
    station = g.station
    if station is None or station["mode"] != "room":
        abort(403)
    return station


@bp.get("/door")
@station_required
def door():
    """A room-door station's own counts, polled by its kiosk page."""
    station = _door_station()
    db = get_db()
    if (response := unchanged(rooms_data.room_version(db, station["room_id"]))) is not None:
        return response
    return render(
        "checkin/room.html", "checkin/_door_counts.html",
        **dict(kiosk_context(station), live=rooms_data.room_live(db, station["room_id"])),
    )


@bp.post("/door/count")
@station_required
def door_count():
    """+1 or -1 at a room-door station, for its own room only."""
    station = _door_station()
    db = get_db()
    service.count(db, station["room_id"], _delta(), by=signed_in_user_id(), station=station)
    if not wants_fragment():
        return redirect(url_for("checkin.kiosk"), code=303)
    return render(
        "checkin/room.html", "checkin/_door_counts.html",
        **dict(kiosk_context(station), live=rooms_data.room_live(db, station["room_id"])),
    )


@bp.app_context_processor
def room_helpers():
    """The rooms' template helpers: the capacity alert in words and the bar width class."""
    return {"alert_text": service.alert_text, "bar_class": service.bar_class}
