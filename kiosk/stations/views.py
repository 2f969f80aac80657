"""Kiosk stations: created by organisers, paired to a device by a one-time link or its QR."""

from flask import Blueprint, abort, current_app, flash, g, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _

from kiosk.accounts.access import STATION_COOKIE, actor_name, organiser_required, public
from kiosk.data import accounts as data
from kiosk.data import events as events_data
from kiosk.data import rooms as rooms_data
from kiosk.db import get_db
from kiosk.stations.links import loopback_address, pairing_url, public_url, qr_svg
from kiosk.web.ids import id_field, parse_id
from kiosk.web.rendering import render

bp = Blueprint("stations", __name__)


@bp.get("/admin/stations")
@organiser_required
def index():
    """The stations with their devices and last scan, and the form to add one."""
    db = get_db()
    return render(
        "stations/index.html",
        stations=data.list_stations(db),
        rooms=rooms_data.list_rooms(db),
        loopback_port=loopback_address(public_url()),
    )


@bp.post("/admin/stations")
@organiser_required
def create():
    """Add a station; shows its token and pairing link once."""
    db = get_db()
    form = request.form
    try:
        station, token, secret = data.add_station(
            db,
            form.get("name", ""),
            mode=form.get("mode", "entrance"),
            room_id=id_field(form, "room_id"),
            staffed=form.get("staffed") == "1",
            print_on_arrival=form.get("print_on_arrival") == "1",
            language=form.get("language") if form.get("language") in current_app.config["LANGUAGES"] else None,
            result_seconds=_result_seconds(form.get("result_seconds", "")),
            actor=actor_name(),
        )
    except data.AccountError as error:
        flash(str(error), "error")
        return redirect(url_for("stations.index"), code=303)
    # Secrets are shown once, on this response, and never stored in the clear.
    return render_template(
        "stations/created.html",
        station=station,
        token=token,
        link=pairing_url(secret),
        link_qr=qr_svg(pairing_url(secret)),
        loopback_port=loopback_address(public_url()),
    )


@bp.get("/admin/stations/<int:station_id>")
@organiser_required
def edit(station_id):
    """A station's settings: name, language, and for a room door its room and whether it scans people out."""
    db = get_db()
    station = data.get_station(db, station_id)
    if station is None or station["revoked_at"]:
        abort(404)
    return render("stations/edit.html", station=station, rooms=rooms_data.list_rooms(db),
                  events=[event for event in events_data.list_events(db) if event["id"] != db.event_id])


@bp.post("/admin/stations/<int:station_id>")
@organiser_required
def update(station_id):
    """Save a station's settings."""
    form = request.form
    try:
        saved = data.update_station(
            get_db(),
            station_id,
            name=form.get("name", ""),
            language=form.get("language") if form.get("language") in current_app.config["LANGUAGES"] else None,
            room_id=id_field(form, "room_id"),
            exit_scan=form.get("exit_scan") == "1",
            actor=actor_name(),
        )
    except data.AccountError as error:
        flash(str(error), "error")
        return redirect(url_for("stations.edit", station_id=station_id), code=303)
    if not saved:
        abort(404)
    flash(_("The station is saved."), "success")
    return redirect(url_for("stations.index"), code=303)


def _result_seconds(text):
    """The form's seconds an answer stays on screen, within 3 to 120; None (the default) when left empty."""
    number = parse_id(text.strip())
    return None if number is None else min(max(number, 3), 120)


@bp.post("/admin/stations/<int:station_id>/pairing")
@organiser_required
def new_pairing(station_id):
    """A new one-time pairing link for a station, shown once."""
    db = get_db()
    secret = data.new_pairing_link(db, station_id, actor=actor_name())
    station = data.get_station(db, station_id)
    if secret is None or station is None:
        flash(_("This station is revoked."), "error")
        return redirect(url_for("stations.index"), code=303)
    return render_template(
        "stations/created.html", station=station, token=None, link=pairing_url(secret), link_qr=qr_svg(pairing_url(secret)),
        loopback_port=loopback_address(public_url()),
    )


@bp.post("/admin/stations/<int:station_id>/revoke")
@organiser_required
def revoke(station_id):
    """Revoke a station: its token and paired devices stop working at once."""
    if data.revoke_station(get_db(), station_id, actor=actor_name()):
        flash(_("Station revoked: its devices and token no longer work."), "success")
    return redirect(url_for("stations.index"), code=303)


@bp.get("/pair/<secret>")
@public
def pair(secret):
    """The page a device opens from a pairing link."""
    station = data.pairing_station(get_db(), secret)
    return render_template("stations/pair.html", station=station, secret=secret), (200 if station else 404)


@bp.post("/pair/<secret>")
@public
def pair_post(secret):
    """Pair this device: a station cookie, then on to the kiosk page."""
    paired = data.pair_device(get_db(), secret, request.user_agent.string)
    if paired is None:
        return render_template("stations/pair.html", station=None, secret=secret), 404
    station, device_token = paired
    response = make_response(redirect(url_for("checkin.kiosk"), code=303))
    response.set_cookie(
        STATION_COOKIE,
        device_token,
        max_age=60 * 60 * 24 * 365,
        httponly=True,
        samesite="Lax",
        secure=request.is_secure,
    )
    g.station = station
    return response


@bp.post("/admin/stations/<int:station_id>/event")
@organiser_required
def move(station_id):
    """Move a station to another event (a room door to the room of the same name there)."""
    event_id = id_field(request.form, "event_id")
    missing = events_data.move_station(get_db(), station_id, event_id, actor=actor_name()) if event_id else None
    if missing is None:
        flash(_("This station cannot move to that event (no such event, or a station of that name is there)."), "error")
        return redirect(url_for("stations.index"), code=303)
    if missing:
        flash(_("That event has no room named %(room)s.", room=missing), "error")
        return redirect(url_for("stations.edit", station_id=station_id), code=303)
    flash(_("The station works for %(name)s now.", name=events_data.get(get_db(), event_id)["name"]), "success")
    return redirect(url_for("stations.index"), code=303)
