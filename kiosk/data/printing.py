"""Badge printing: which badges to print, the print log and badge status per attendee."""

from kiosk.data import audit
from kiosk.data.badges import issue_badge
from kiosk.db import immediate, now_utc
from kiosk.text import fold

# Printed before means: this badge (the current code), not an earlier, replaced one.
_PRINTS = """SELECT badge_id, count(*) AS print_count, max(printed_at) AS last_printed_at
             FROM badge_prints GROUP BY badge_id"""


def _selection_where(event_id, organisation=None, not_printed=False, attendee_ids=None, badge_ids=None):
    """The WHERE clause and parameters for a badge selection in event EVENT_ID."""
    clauses, params = ["attendees.event_id = ?"], [event_id]
    if badge_ids:
        ids = sorted({int(i) for i in badge_ids})
        clauses.append(f"badges.id IN ({', '.join('?' for _ in ids)})")
        params += ids
    elif attendee_ids:
        ids = sorted({int(i) for i in attendee_ids})
        clauses.append(f"attendees.id IN ({', '.join('?' for _ in ids)})")
        params += ids
    else:
        # Explicitly chosen people are printed whatever their status; bulk runs skip cancellations.
        clauses.append("attendees.status = 'registered'")
    if organisation is not None:
        clauses.append("attendees.organisation = ?")
        params.append(organisation)
    if not_printed:
        clauses.append("coalesce(prints.print_count, 0) = 0")
    return " AND ".join(clauses), params


def select_badges(db, *, organisation=None, not_printed=False, attendee_ids=None, badge_ids=None):
    """The current badges to print, sorted by last name: dicts with attendee and badge fields and print counts.

    ORGANISATION limits to one organisation ('' is those without one), NOT_PRINTED to badges
    never printed, ATTENDEE_IDS to those people, BADGE_IDS to those badges while still current.
    Attendees without a current badge are left out (see missing_badges).
    """
    where, params = _selection_where(db.event_id, organisation, not_printed, attendee_ids, badge_ids)
    rows = db.query(
        f"""SELECT attendees.id AS attendee_id, attendees.name, attendees.organisation, attendees.role,
                   attendees.status, attendees.first_name, attendees.last_name,
                   badges.id AS badge_id, badges.code, badges.short_code,
                   coalesce(prints.print_count, 0) AS print_count, prints.last_printed_at,
                   (SELECT layout FROM badge_prints WHERE badge_id = badges.id
                    ORDER BY printed_at DESC, id DESC LIMIT 1) AS last_layout
            FROM attendees
            JOIN badges ON badges.attendee_id = attendees.id AND badges.replaced_at IS NULL
            LEFT JOIN ({_PRINTS}) AS prints ON prints.badge_id = badges.id
            WHERE {where}""",
        params,
    )
    # Sorted in Python: SQLite's NOCASE would put 'Çelik' after 'Vries'.
    return sorted(
        rows,
        key=lambda r: (fold(r["last_name"] or r["name"]), fold(r["first_name"]), fold(r["name"]), r["attendee_id"]),
    )


def missing_badges(db, *, organisation=None, attendee_ids=None):
    """Ids of the attendees in a selection who have no current badge yet."""
    where, params = _selection_where(db.event_id, organisation, False, attendee_ids)
    return [
        row["id"]
        for row in db.query(
            f"""SELECT attendees.id FROM attendees
                WHERE {where} AND NOT EXISTS (
                    SELECT 1 FROM badges WHERE badges.attendee_id = attendees.id AND badges.replaced_at IS NULL)
                ORDER BY attendees.id""",
            params,
        )
    ]


def issue_missing(db, attendee_ids, *, actor):
    """Give each of ATTENDEE_IDS without a current badge a first badge; returns how many were issued."""
    issued = 0
    with immediate(db):
        for attendee_id in attendee_ids:
            has = db.execute(
                "SELECT 1 FROM badges WHERE attendee_id = ? AND replaced_at IS NULL", [attendee_id]
            ).fetchone()
            if not has:
                issue_badge(db, attendee_id)
                issued += 1
        if issued:
            audit.record(db, actor, "badges.issue", f"{issued} missing badges issued")
    return issued


def record_prints(db, badge_ids, *, layout, printed_by):
    """Log that BADGE_IDS were printed on LAYOUT by PRINTED_BY, all at one moment; returns the count."""
    now = now_utc()
    rows = [(badge_id, layout, printed_by, now) for badge_id in badge_ids]
    with immediate(db):
        db.conn.executemany(
            "INSERT INTO badge_prints (badge_id, layout, printed_by, printed_at) VALUES (?, ?, ?, ?)", rows
        )
    return len(rows)


def reprints(badges):
    """The badges in BADGES (from select_badges) that were printed before."""
    return [badge for badge in badges if badge["print_count"]]


def organisations(db):
    """Organisations of registered attendees with how many have a current badge, by name."""
    return list(
        db.query(
            """SELECT attendees.organisation, count(*) AS attendees, count(badges.id) AS badges
               FROM attendees
               LEFT JOIN badges ON badges.attendee_id = attendees.id AND badges.replaced_at IS NULL
               WHERE attendees.status = 'registered' AND attendees.event_id = ?
               GROUP BY attendees.organisation ORDER BY attendees.organisation COLLATE NOCASE""", [db.event_id]
        )
    )


def counts(db):
    """Registered attendees, those with a badge, and printed / not yet printed badges."""
    row = db.execute(
        f"""SELECT count(*), count(badges.id),
                   sum(CASE WHEN badges.id IS NOT NULL AND coalesce(prints.print_count, 0) > 0 THEN 1 ELSE 0 END)
            FROM attendees
            LEFT JOIN badges ON badges.attendee_id = attendees.id AND badges.replaced_at IS NULL
            LEFT JOIN ({_PRINTS}) AS prints ON prints.badge_id = badges.id
            WHERE attendees.status = 'registered' AND attendees.event_id = ?""", [db.event_id]
    ).fetchone()
    attendees, badges, printed = row[0], row[1], row[2] or 0
    return {
        "attendees": attendees,
        "badges": badges,
        "printed": printed,
        "not_printed": badges - printed,
        "without_badge": attendees - badges,
    }


def badge_status(db, attendee_id):
    """ATTENDEE_ID's current badge and its print history, for the attendee page."""
    rows = list(
        db.query(
            """SELECT code, short_code, issued_at, id AS badge_id FROM badges
               WHERE attendee_id = ? AND replaced_at IS NULL""",
            [attendee_id],
        )
    )
    badge = rows[0] if rows else {"code": None, "short_code": None, "issued_at": None, "badge_id": None}
    prints = list(
        db.query(
            """SELECT layout, printed_by, printed_at FROM badge_prints WHERE badge_id = ?
               ORDER BY printed_at DESC, id DESC""",
            [badge["badge_id"]],
        )
    )
    replaced = db.execute(
        "SELECT count(*) FROM badges WHERE attendee_id = ? AND replaced_at IS NOT NULL", [attendee_id]
    ).fetchone()[0]
    return {
        **badge,
        "print_count": len(prints),
        "last_printed_at": prints[0]["printed_at"] if prints else None,
        "last_layout": prints[0]["layout"] if prints else None,
        "last_printed_by": prints[0]["printed_by"] if prints else None,
        "replaced_codes": replaced,
    }


def badge_status_map(db, attendee_ids):
    """For the attendee list: {attendee_id: {"printed": bool, "print_count": n}} of their current badges."""
    ids = sorted({int(i) for i in attendee_ids})
    if not ids:
        return {}
    status = {i: {"printed": False, "print_count": 0, "has_badge": False} for i in ids}
    for row in db.query(
        f"""SELECT badges.attendee_id, count(badge_prints.id) AS print_count
            FROM badges LEFT JOIN badge_prints ON badge_prints.badge_id = badges.id
            WHERE badges.replaced_at IS NULL AND badges.attendee_id IN ({', '.join('?' for _ in ids)})
            GROUP BY badges.attendee_id""",
        ids,
    ):
        status[row["attendee_id"]] = {
            "printed": row["print_count"] > 0,
            "print_count": row["print_count"],
            "has_badge": True,
        }
    return status


def reissue(db, attendee_id, *, actor):
    """Replace ATTENDEE_ID's badge with a new code (the old one then answers 'replaced'); returns the new badge."""
    with immediate(db):
        old = db.execute(
            "SELECT short_code FROM badges WHERE attendee_id = ? AND replaced_at IS NULL", [attendee_id]
        ).fetchone()
        badge = issue_badge(db, attendee_id)
        audit.record(
            db,
            actor,
            "badge.reissue",
            f"attendee {attendee_id}: {old[0] if old else '-'} replaced by {badge['short_code']}",
        )
    return badge
