"""The sentences a person reads for a scan's answer, in the station's language."""

from flask_babel import get_translations

from kiosk.data.event import local_time
from kiosk.outcomes import Outcome
from kiosk.web.catalogue import translations_for
from kiosk.web.i18n import current_event, station_language


def with_message(result, station):
    """RESULT (a checkin.service.Result) with the sentence a person reads, in STATION's language
    (the request's when STATION is None: a host at a room door)."""
    translations = translations_for(station_language(station)) if station is not None else None
    # A host (no station) or a staffed desk is the registration desk: never send them to it.
    staffed = station is None or bool(station.get("staffed"))
    return result.said(describe(result, translations, staffed=staffed))


def describe(result, translations=None, *, staffed=True):
    """The sentence a person reads for RESULT, from TRANSLATIONS (default: the request's language).

    At a self-service screen (STAFFED false) a refusal ends with where to get help.
    """
    catalogue = translations if translations is not None else get_translations()

    def _(text, **variables):  # as flask_babel.gettext, from this catalogue
        text = catalogue.ugettext(text)
        return text % variables if variables else text

    def ngettext(singular, plural, num, **variables):
        variables.setdefault("num", num)
        return catalogue.ungettext(singular, plural, num) % variables

    name = (result.attendee or {}).get("name", "")
    room = (result.room or {}).get("name", "")
    outcome = result.outcome
    if outcome == Outcome.CHECKED_IN:
        if room and result.warning == "not_registered":
            # One sentence, not two joined: a translation may need another order.
            return ngettext(
                "Welcome to %(room)s, %(name)s — not registered for this session; %(num)s place left",
                "Welcome to %(room)s, %(name)s — not registered for this session; %(num)s places left",
                result.room["places_left"], room=room, name=name,
            )
        if room:
            return _("Welcome to %(room)s, %(name)s", room=room, name=name)
        return _("Welcome, %(name)s", name=name)
    if outcome == Outcome.ALREADY:
        when = local_time(current_event(), result.checked_in_at)
        if room:
            return _("%(name)s is already inside %(room)s (since %(time)s)", name=name, room=room, time=when)
        return _("%(name)s is already checked in at %(time)s", name=name, time=when)
    if outcome == Outcome.FULL:
        alternative = result.alternative
        if alternative:
            return _(
                "%(room)s is full. Places left at %(session)s in %(other)s.",
                room=room, session=alternative["session"], other=alternative["room"],
            )
        return _("%(room)s is full.", room=room)
    return _fixed_sentence(outcome, name, _, staffed)


def _fixed_sentence(outcome, name, _, staffed):
    """The sentence for an outcome that names at most the attendee."""
    if outcome == Outcome.UNKNOWN:
        return _("Unknown code.") if staffed else _("Unknown code. Please go to the registration desk.")
    if outcome == Outcome.REPLACED:
        if staffed:
            return _("This badge was replaced by a newer badge.")
        return _("This badge was replaced by a newer badge. Please use your new badge, or go to the registration desk.")
    if outcome == Outcome.CANCELLED:
        if staffed:
            return _("This registration was cancelled.")
        return _("This registration was cancelled. Please go to the registration desk.")
    if outcome == Outcome.CHECKED_OUT:
        return _("Goodbye, %(name)s", name=name)
    if outcome == Outcome.NOT_INSIDE:
        return _("%(name)s was not counted inside here.", name=name)
    if outcome == Outcome.UNDONE:
        return _("Check-in of %(name)s undone", name=name)
    if outcome == Outcome.NOT_UNDONE:
        return _("This check-in was undone already.")
    if outcome == Outcome.TOO_MANY:
        return _("Too many unknown codes. Wait a minute, then try again.")
    return str(outcome)
