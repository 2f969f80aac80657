"""Row ids in URLs, queries and forms: ASCII digits in one spelling per number, within SQLite's integers."""

import re

from flask import abort
from flask_babel import gettext as _
from werkzeug.routing import BaseConverter, ValidationError

MAX_ROW_ID = 2**63 - 1  # SQLite's largest integer
# "12", never "012", "+12", " 12", "1_2", "١٢" or "²" (int() takes most of those, "²".isdigit() is
# True and int("²") raises) nor 5,000 digits: one id has one URL, and a bad one is the client's fault.
ROW_ID = r"(?:0|[1-9][0-9]{0,18})"
_ROW_ID = re.compile(ROW_ID)


def parse_id(text):
    """TEXT as a row id when it is one, written as ROW_ID says; else None."""
    if isinstance(text, str) and _ROW_ID.fullmatch(text):
        number = int(text)
        if number <= MAX_ROW_ID:
            return number
    return None


class RowIdConverter(BaseConverter):
    """<int:...>: a row id as parse_id takes it; any other spelling matches no route, a 404."""

    regex = ROW_ID
    weight = 50  # as werkzeug's IntegerConverter: a number is tried before a string in the same place
    part_isolating = True

    def to_python(self, value):
        number = parse_id(value)
        if number is None:  # past MAX_ROW_ID
            raise ValidationError()
        return number

    def to_url(self, value):
        return str(int(value))


def id_field(values, name):
    """The row id in field NAME of VALUES (request.args or request.form); None when it is absent
    or empty, a 400 when it is not a row id."""
    text = values.get(name)
    return _id_or_400(text, name) if text else None


def id_fields(values, name):
    """The row ids of the repeated field NAME (attendee=1&attendee=2); a 400 when one is not one."""
    return [_id_or_400(text, name) for text in values.getlist(name) if text]


def id_list(values, name):
    """The comma-separated row ids in field NAME ("1,2,3"); a 400 when one is not one."""
    return [_id_or_400(text, name) for text in values.get(name, "").split(",") if text]


def _id_or_400(text, name):
    number = parse_id(text)
    if number is None:
        abort(400, _("The field “%(name)s” must be a number written in digits, such as 12.", name=name))
    return number
