"""The geometry of the report's charts: coordinates and paths that templates/reports/_*_chart.html draw as SVG.

Drawn on the server, no chart library: bars, a line, a stepped area, ticks. Colours come from
classes in static/css/report.css (Kiosk's palette); every chart has its data as a table beside it.
"""

import math

from kiosk.data.timeline import BUCKET


def nice_ticks(highest, count=4):
    """Round tick values from 0 to at least HIGHEST, about COUNT steps."""
    if highest <= 0:
        return [0, 1]
    rough = highest / count
    power = 10 ** math.floor(math.log10(rough))
    step = next(n * power for n in (1, 2, 5, 10) if n * power >= rough)
    step = max(int(step), 1)
    return list(range(0, int(math.ceil(highest / step)) * step + 1, step))


class Scale:
    """A linear map from a domain (low, high) onto a pixel range (start, end)."""

    def __init__(self, low, high, start, end):
        self.low, self.high, self.start, self.end = low, high, start, end

    def __call__(self, value):
        if self.high == self.low:
            return self.start
        return round(self.start + (value - self.low) * (self.end - self.start) / (self.high - self.low), 1)


def _hour_ticks(span, x, zone_of):
    """One tick per whole hour (every other hour on a long day) within SPAN, labelled HH:MM."""
    first, last = span
    every = 3600 if last - first <= 12 * 3600 else 7200
    ticks = []
    for moment in range(first, last + BUCKET + 1, 3600):
        if (moment - first) % every == 0:
            ticks.append({"x": x(moment), "label": zone_of(moment).strftime("%H:%M")})
    return ticks


def arrivals_chart(arrivals, starts, span, zone_of, width=720, height=260):
    """Bars of check-ins per five minutes, the running total as a line (right axis), block starts marked."""
    left, right, top, bottom = 46, 54, 26, 34
    plot = {"x": left, "y": top, "w": width - left - right, "h": height - top - bottom}
    x = Scale(span[0], span[1] + BUCKET, left, width - right)
    counts = nice_ticks(max((a["count"] for a in arrivals), default=0))
    totals = nice_ticks(max((a["total"] for a in arrivals), default=0))
    y = Scale(0, counts[-1], height - bottom, top)
    y_total = Scale(0, totals[-1], height - bottom, top)
    bar_width = max(x(span[0] + BUCKET) - x(span[0]) - 1, 1)
    bars, line = [], []
    for point in arrivals:
        moment = int(point["at"].timestamp())
        bars.append({"x": x(moment), "y": y(point["count"]), "w": bar_width,
                     "h": round(y(0) - y(point["count"]), 1)})
        line.append(f"{x(moment + BUCKET)},{y_total(point['total'])}")
    first = f"M{x(int(arrivals[0]['at'].timestamp()))},{y_total(0)} " if arrivals else ""
    return {
        "width": width, "height": height, "plot": plot, "bars": bars,
        "line": first + ("L" + " L".join(line) if line else ""),
        "y_ticks": [{"y": y(value), "label": value} for value in counts],
        "total_ticks": [{"y": y_total(value), "label": value} for value in totals],
        "x_ticks": _hour_ticks(span, x, zone_of),
        "markers": [{"x": x(int(moment.timestamp())), "label": moment.strftime("%H:%M"), "name": name}
                    for moment, name in starts if span[0] <= moment.timestamp() <= span[1] + BUCKET],
    }


def room_chart(room, span, zone_of, width=260, height=130):
    """A room's count per five minutes as a stepped area, its capacity as a line, full moments in red."""
    left, right, top, bottom = 34, 8, 10, 22
    capacity = room["capacity"]
    ticks = nice_ticks(max(capacity, room["peak"], 1), count=2)
    x = Scale(span[0], span[1] + BUCKET, left, width - right)
    y = Scale(0, ticks[-1], height - bottom, top)
    area, full = [f"M{x(span[0])},{y(0)}"], []
    for point in room["series"]:
        moment = int(point["at"].timestamp())
        area.append(f"L{x(moment)},{y(point['inside'])} L{x(moment + BUCKET)},{y(point['inside'])}")
        if point["inside"] >= capacity and point["inside"] > 0:
            full.append({"x": x(moment), "y": y(point["inside"]), "w": round(x(moment + BUCKET) - x(moment), 1),
                         "h": round(y(0) - y(point["inside"]), 1)})
    area.append(f"L{x(span[1] + BUCKET)},{y(0)} Z")
    hours = _hour_ticks(span, x, zone_of)
    return {
        "width": width, "height": height, "area": " ".join(area), "full": full,
        "capacity_y": y(capacity), "plot": {"x": left, "y": top, "w": width - left - right, "h": height - top - bottom},
        "y_ticks": [{"y": y(value), "label": value} for value in ticks],
        # Every third hour on a small chart, so the labels do not run into each other.
        "x_ticks": hours[::3] if len(hours) > 6 else hours[::2] if len(hours) > 4 else hours,
    }
