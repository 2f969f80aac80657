"""The event's data as a whole: whether there is an event, clearing it, and what it holds."""


def has_event(db):
    """Whether the database already holds an event."""
    return db["event"].exists() and db.execute("SELECT count(*) FROM event").fetchone()[0] > 0


def event_tables(db):
    """Every table holding event data, children before parents, so deleting in this order keeps FKs valid."""
    seeds = {"event", "rooms", "blocks", "sessions", "attendees", "choices", "badges", "badge_prints", "stations",
             "scans", "presence", "occupancy"}
    tables = [t for t in db.table_names() if not t.startswith(("sqlite_", "_"))]
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
    """Delete every event table's rows (accounts and the audit log stay); the caller holds the transaction."""
    for table in event_tables(db):
        db.execute(f"DELETE FROM [{table}]")


def insert_event(db, event):
    """Write the event row EVENT (a dict with id 1)."""
    db["event"].insert(event)


def counts(db):
    """How many attendees, sessions and rooms the event has."""
    return {table: db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in ("attendees", "sessions", "rooms")}
