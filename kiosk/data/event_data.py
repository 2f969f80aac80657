"""The event's data as a whole: whether there is an event, clearing it, and what it holds."""


ACCOUNT_TABLES = ("users", "login_sessions", "user_links")


def has_event(db):
    """Whether the database already holds an event (not only the unnamed first one, see kiosk.data.event)."""
    return db["event"].exists() and db.execute("SELECT count(*) FROM event WHERE date != ''").fetchone()[0] > 0


def event_tables(db):
    """Every table holding event data, children before parents, so deleting in this order keeps FKs valid."""
    seeds = {"event", "rooms", "blocks", "sessions", "attendees", "choices", "badges", "badge_prints", "stations",
             "scans", "presence", "occupancy"}
    # Accounts refer to an event (a host's, a login's) but stay: clear() lets go of those references.
    tables = [t for t in db.table_names() if not t.startswith(("sqlite_", "_")) and t not in ACCOUNT_TABLES]
    parents = {t: {fk.other_table for fk in db[t].foreign_keys} - {t} for t in tables}
    chosen = {t for t in seeds if t in parents}
    while True:
        more = {t for t in tables if t not in chosen and parents[t] & chosen}
        if not more:
            break
        chosen |= more
    order, done = [], set()
    # Children first: a table goes once every table that references it has gone.
    while len(order) < len(chosen):
        for t in sorted(chosen - done):
            if not any(t in parents[c] for c in chosen - done - {t}):
                order.append(t)
                done.add(t)
    return order



def clear(db):
    """Delete every event table's rows, of every event (accounts and the audit log stay); the caller holds the transaction."""
    db.execute("UPDATE users SET event_id = NULL WHERE event_id IS NOT NULL")
    db.execute("UPDATE login_sessions SET event_id = NULL WHERE event_id IS NOT NULL")
    for table in event_tables(db):
        db.execute(f"DELETE FROM [{table}]")


def insert_event(db, event):
    """Write the event row EVENT (a dict with its id)."""
    db["event"].insert(event)


def counts(db):
    """How many attendees, sessions and rooms the event has."""
    queries = {
        "attendees": "SELECT count(*) FROM attendees WHERE event_id = ?",
        "sessions": "SELECT count(*) FROM sessions JOIN blocks ON blocks.id = sessions.block_id WHERE blocks.event_id = ?",
        "rooms": "SELECT count(*) FROM rooms WHERE event_id = ?",
    }
    return {table: db.execute(sql, [db.event_id]).fetchone()[0] for table, sql in queries.items()}
