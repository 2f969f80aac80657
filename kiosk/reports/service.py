"""The event report: who came, which sessions drew people, how the day filled the rooms; live and after the day.

Definitions (the same for the page, the exports and GET /api/v1/report):
- registered: attendees with status 'registered' who chose the session;
- attended: distinct attendees counted in the session's room during its block: inside the room as
  the block starts, or checked in at its door (outcome checked_in, not undone) before it ends, by
  the replay of the scan history (kiosk.data.timeline). A session without a room has no door, so
  no attendance (None);
- no_show: registered minus those of them who attended;
- places: the session's place limit, else its room's capacity (the smaller when both are set);
- arrivals: entrance check-ins (not undone) per five minutes, in the event's local time;
- organisations: registered attendees, and how many of them arrived (checked in, not taken back);
- rooms: the highest count of people inside (badged and counted without a badge) and when it was
  first reached, from the replay.
No figure reads a name, so the report is the same after `kiosk purge`.
"""

from datetime import date, datetime, timezone

from kiosk.data import reports as data
from kiosk.data.event import event_zone, get_event
from kiosk.data.schedule import block_time_utc
from kiosk.data.timeline import BUCKET, replayed_day

SORTS = ("block", "name", "room", "registered", "attended", "no_show", "fill")
NO_SHOWS_SHOWN = 500  # on the page; the CSV holds them all


def build(db, now=None):
    """The whole report at NOW (default: the clock) as a dict of plain values; see the module's definitions."""
    now = now or datetime.now(timezone.utc)
    event = get_event(db)
    zone = event_zone(event)
    day = replayed_day(db, event, now.astimezone(timezone.utc).isoformat(timespec="milliseconds"),
                       (data.registrations_version(db), lambda: data.registrations(db)))
    sessions = data.sessions(db)
    with day.lock:
        for row in sessions:
            row["registered"] = day.registered.get(row["id"], 0)
            attended = day.attendance(row["id"]) if row["room_id"] is not None else None
            _session_figures(row, attended, day.chose_and_came.get(row["id"], 0))
            row["starts"] = event and datetime.fromisoformat(block_time_utc(event, row["starts_at"])).astimezone(zone)
        arrived = day.arrived_by_organisation()
        organisations = [{"name": name, "registered": count, "arrived": arrived.get(name, 0)}
                         for name, count in sorted(day.registered_by_organisation.items())]
        arrivals = {bucket: count for bucket, count in day.arrivals.items() if count}
        buckets = {room: dict(slots) for room, slots in day.rooms.items()}
        peaks = dict(day.peaks)
    purged = data.purged_at(db)
    span = _span(event, zone, arrivals, buckets)
    return {
        "event": event,
        "generated_at": now.astimezone(zone),
        "final": purged is not None or _after_event(event, now, zone),
        "purged_at": purged and datetime.fromisoformat(purged).astimezone(zone),
        "sessions": sessions,
        "organisations": _organisations(organisations),
        "arrivals": _arrivals(arrivals, zone),
        "rooms": _rooms(data.rooms(db), buckets, peaks, span, zone),
        "span": span,
        "starts": _starts(event, zone, sessions),
    }


def _session_figures(row, attended, registered_attended):
    row["name"] = row["title"]
    if attended is None:
        row["attended"] = row["no_show"] = row["fill"] = None
        return
    row["attended"] = attended
    row["no_show"] = row["registered"] - registered_attended
    row["fill"] = row["attended"] / row["places"] if row["places"] else None


def _organisations(rows):
    for row in rows:
        row["no_show"] = row["registered"] - row["arrived"]
        row["no_show_rate"] = row["no_show"] / row["registered"] if row["registered"] else None
    return rows


def _local(bucket, zone):
    return datetime.fromtimestamp(bucket, timezone.utc).astimezone(zone)


def _arrivals(counts, zone):
    """[{at, count, total}] for every five minutes from the first arrival to the last (quiet ones as 0)."""
    if not counts:
        return []
    found, total = [], 0
    for bucket in range(min(counts), max(counts) + BUCKET, BUCKET):
        total += counts.get(bucket, 0)
        found.append({"at": _local(bucket, zone), "count": counts.get(bucket, 0), "total": total})
    return found


def _span(event, zone, arrivals, buckets):
    """(first, last) bucket start shown on the charts: whole hours around the program and the scans."""
    times = list(arrivals) + [bucket for slots in buckets.values() for bucket in slots]
    if event:
        times += [int(datetime.fromisoformat(block_time_utc(event, hhmm)).timestamp())
                  for hhmm in ("09:00", "17:00")]
    if not times:
        return None
    hour = 3600
    return min(times) // hour * hour, -(-(max(times) + BUCKET) // hour) * hour - BUCKET


def _rooms(rooms, buckets, peaks, span, zone):
    """Each room with its peak and its count per five minutes (the highest in each) over SPAN."""
    for room in rooms:
        peak, at = peaks.get(room["id"], (0, None))
        room["peak"] = peak
        room["peak_at"] = datetime.fromisoformat(at).astimezone(zone) if at else None
        room["full"] = peak >= room["capacity"] > 0 or (room["capacity"] == 0 and peak > 0)
        slots, series, last = buckets.get(room["id"], {}), [], 0
        if span:
            for bucket in range(span[0], span[1] + BUCKET, BUCKET):
                highest, now_inside = slots.get(bucket, (last, last))
                series.append({"at": _local(bucket, zone), "inside": highest})
                last = now_inside
        room["series"] = series
    return rooms


def _starts(event, zone, sessions):
    """[(local start time, block name)] of every block, in time order."""
    if not event:
        return []
    seen = {}
    for row in sessions:
        seen.setdefault(row["starts_at"], row["block"])
    return [(datetime.fromisoformat(block_time_utc(event, hhmm)).astimezone(zone), block)
            for hhmm, block in sorted(seen.items())]


def _after_event(event, now, zone):
    return bool(event) and now.astimezone(zone).date() > date.fromisoformat(event["date"])


def sorted_sessions(sessions, sort, descending):
    """SESSIONS ordered by SORT (one of SORTS; unknown: by block), missing figures last."""
    if sort not in SORTS or sort == "block":
        return list(reversed(sessions)) if descending else list(sessions)
    key = {"name": lambda s: (s["name"] or "").lower(), "room": lambda s: (s["room"] or "").lower()}.get(
        sort, lambda s: s[sort])
    present = [s for s in sessions if key(s) is not None and key(s) != ""]
    missing = [s for s in sessions if key(s) is None or key(s) == ""]
    return sorted(present, key=key, reverse=descending) + missing


def quarter_hours(series):
    """A room's SERIES per quarter of an hour (the highest in each), for the table behind its chart."""
    quarters = {}
    for point in series:
        at = point["at"].replace(minute=point["at"].minute // 15 * 15)
        quarters[at] = max(quarters.get(at, 0), point["inside"])
    return sorted(quarters.items())


def api_answer(report):
    """The report as GET /api/v1/report answers it (kiosk/api/openapi.json)."""
    return {
        "final": report["final"],
        "generated_at": report["generated_at"].isoformat(timespec="seconds"),
        "sessions": [
            {"name": s["name"], "block": s["block"], "room": s["room"], "registered": s["registered"],
             "attended": s["attended"], "no_show": s["no_show"], "places": s["places"]}
            for s in report["sessions"]
        ],
        "organisations": [{"name": o["name"], "registered": o["registered"], "arrived": o["arrived"]}
                          for o in report["organisations"]],
        "arrivals": [{"at": a["at"].isoformat(timespec="seconds"), "count": a["count"]} for a in report["arrivals"]],
        "rooms": [{"name": r["name"], "capacity": r["capacity"], "peak": r["peak"],
                   "peak_at": r["peak_at"].isoformat(timespec="seconds") if r["peak_at"] else None}
                  for r in report["rooms"]],
    }


def no_shows(db, limit=None):
    """The registered attendees who never arrived (names until `kiosk purge`), or [] after a purge."""
    if data.purged_at(db):
        return []
    return data.no_shows(db, limit)



def totals(report):
    """Registered attendees, how many arrived, and the no-shows among them, over all organisations."""
    registered = sum(row["registered"] for row in report["organisations"])
    arrived = sum(row["arrived"] for row in report["organisations"])
    checked_in = sum(row["count"] for row in report["arrivals"])
    busiest = max(report["arrivals"], key=lambda row: row["count"], default=None)
    return {"registered": registered, "arrived": arrived, "no_show": registered - arrived, "entrance": checked_in,
            "busiest": busiest,
            "no_show_rate": (registered - arrived) / registered if registered else None}
