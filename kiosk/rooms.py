"""Rooms: live occupancy against capacity for hosts and the organiser wall."""

from flask import Blueprint

from kiosk.accounts import host_required
from kiosk.data import rooms as rooms_data
from kiosk.data.event import get_event
from kiosk.db import get_db
from kiosk.rendering import render

bp = Blueprint("rooms", __name__, url_prefix="/rooms")


@bp.get("/")
@host_required
def index():
    """Every room with inside now, capacity and places left."""
    db = get_db()
    rooms = rooms_data.occupancy(db)
    event = get_event(db)
    for room in rooms:
        room["current"], room["next"] = rooms_data.room_sessions(db, room["id"], event)
    return render("rooms/index.html", "rooms/_room_list.html", rooms=rooms)
