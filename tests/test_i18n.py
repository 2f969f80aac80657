"""Translations: every source string has Dutch, placeholders survive, the catalog is current, pages switch language.

When a test here fails after you added or changed a string, run:

    .venv/bin/pybabel extract -F babel.cfg -k _l -o kiosk/translations/messages.pot .
    .venv/bin/pybabel update -i kiosk/translations/messages.pot -d kiosk/translations

then translate the new entries in kiosk/translations/nl/LC_MESSAGES/messages.po (and drop '#, fuzzy'
once an entry is checked). English needs no msgstr: it falls back to the source text.
"""

import os
import re
from collections import defaultdict

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from conftest import ROOT

TRANSLATIONS = ROOT / "kiosk" / "translations"
POT = TRANSLATIONS / "messages.pot"
LANGUAGES = ("nl", "en")
EXTRACT_ARGS = ["-F", str(ROOT / "babel.cfg"), "-k", "_l"]
PLACEHOLDER = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")
# A '%' that is neither '%%' nor the start of a %(name)s placeholder breaks the formatting Jinja does.
STRAY_PERCENT = re.compile(r"%(?!%|\()")


def po_path(language):
    return TRANSLATIONS / language / "LC_MESSAGES" / "messages.po"


def load(path):
    with open(path, "rb") as file:
        return read_po(file)


def key(message):
    return message.id if isinstance(message.id, str) else tuple(message.id)


def keys(catalog):
    return {key(message) for message in catalog if message.id}


def forms(value):
    return (value,) if isinstance(value, str) else tuple(value)


def show(ids):
    return "\n".join(f"  {msgid!r}" for msgid in sorted(ids, key=str))


def placeholders(text):
    return set(PLACEHOLDER.findall(text))


def stray_percents(text):
    return STRAY_PERCENT.findall(PLACEHOLDER.sub("", text.replace("%%", "")))


@pytest.fixture(scope="module")
def pot():
    return load(POT)


@pytest.fixture(scope="module")
def dutch():
    return load(po_path("nl"))


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    """The source strings as they are now: `pybabel extract` with the project's settings into a temp file."""
    output = tmp_path_factory.mktemp("i18n") / "messages.pot"
    CommandLineInterface().run(["pybabel", "--quiet", "extract", *EXTRACT_ARGS, "-o", str(output), str(ROOT)])
    return load(output)


def test_pot_is_up_to_date(pot, extracted):
    added = keys(extracted) - keys(pot)
    removed = keys(pot) - keys(extracted)
    assert not added and not removed, (
        "kiosk/translations/messages.pot is out of date; re-extract, update and translate (see this file's docstring).\n"
        + (f"Strings in the code but not in the catalog:\n{show(added)}\n" if added else "")
        + (f"Strings in the catalog that the code no longer uses:\n{show(removed)}\n" if removed else "")
    )


def test_message_contexts_are_extracted(extracted):
    """pgettext is among pybabel's default keywords: 'Next' page and 'Next' session are two entries."""
    contexts = {message.context for message in extracted if message.id == "Next"}
    assert {"pagination", "session"} <= contexts


def test_every_source_string_has_dutch(extracted, dutch):
    """Checked against the code itself, so a new string fails here even before the .pot is regenerated."""
    translated = {key(m) for m in dutch if m.id and all(forms(m.string)) and not m.fuzzy}
    missing = keys(extracted) - translated
    assert not missing, f"No Dutch translation (or only a fuzzy one) for:\n{show(missing)}"


def test_every_msgid_in_the_pot_has_dutch(pot, dutch):
    plural_forms = dutch.num_plurals
    assert plural_forms == 2
    untranslated, fuzzy = [], []
    for message in pot:
        if not message.id:
            continue
        entry = dutch.get(message.id, message.context)
        if entry is None or not all(forms(entry.string)) or len(forms(entry.string)) != len(forms(message.id)):
            untranslated.append(key(message))
        elif entry.fuzzy:
            fuzzy.append(key(message))
    assert not untranslated, f"Untranslated in nl/messages.po:\n{show(untranslated)}"
    assert not fuzzy, f"Fuzzy in nl/messages.po (check the text, then remove the flag):\n{show(fuzzy)}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_fuzzy_or_obsolete_entries(language):
    catalog = load(po_path(language))
    fuzzy = [key(m) for m in catalog if m.id and m.fuzzy]
    assert not fuzzy, f"Fuzzy entries in {language}/messages.po:\n{show(fuzzy)}"
    assert catalog.num_plurals == 2


def test_english_falls_back_to_the_source():
    """en/messages.po keeps msgstr empty: a stale guess there would replace the real English text."""
    filled = [key(m) for m in load(po_path("en")) if m.id and any(forms(m.string))]
    assert not filled, f"en/messages.po should leave msgstr empty, but has text for:\n{show(filled)}"


def test_dutch_keeps_the_placeholders(dutch):
    wrong = []
    for message in dutch:
        if not message.id:
            continue
        sources = forms(message.id)
        for index, text in enumerate(forms(message.string)):
            if not text:
                continue
            source = sources[min(index, len(sources) - 1)]
            if placeholders(text) != placeholders(source):
                wrong.append(f"{source!r} -> {text!r}: {sorted(placeholders(source))} != {sorted(placeholders(text))}")
            elif stray_percents(text) or text.count("%%") != source.count("%%"):
                wrong.append(f"{source!r} -> {text!r}: a '%' must stay '%%' as in the source")
            else:
                try:
                    text % defaultdict(int)
                except (ValueError, TypeError, KeyError) as error:
                    wrong.append(f"{source!r} -> {text!r}: {error}")
    assert not wrong, "Placeholders differ between source and Dutch:\n" + "\n".join(wrong)


def test_babel_checks_pass(dutch):
    problems = [f"{key(m)!r}: {errors}" for m, errors in dutch.check()]
    assert not problems, "\n".join(problems)


@pytest.fixture
def compiled_catalogs():
    """The .mo files the app reads, rebuilt from the .po files when older (what `./dev setup` does)."""
    for language in LANGUAGES:
        po = po_path(language)
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            temporary = mo.with_suffix(f".mo.{os.getpid()}.tmp")
            with open(temporary, "wb") as file:
                write_mo(file, load(po))
            os.replace(temporary, mo)


def page_in(client, language, path="/admin/attendees"):
    response = client.post("/language", data={"language": language, "next": path})
    assert response.status_code in (302, 303)
    response = client.get(path)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_organiser_page_in_dutch(compiled_catalogs, organiser_client):
    html = page_in(organiser_client, "nl")
    assert '<html lang="nl">' in html
    for dutch in ("Deelnemers", "Programma", "Zalen", "Importeren", "Uitloggen", "Zoeken"):
        assert dutch in html
    for english in (">Attendees<", ">Program<", ">Rooms<", ">Log out<"):
        assert english not in html


def test_organiser_page_in_english(compiled_catalogs, organiser_client):
    html = page_in(organiser_client, "en")
    assert '<html lang="en">' in html
    for english in ("Attendees", "Program", "Rooms", "Import", "Log out", "Search"):
        assert english in html
    for dutch in ("Deelnemers", "Programma", "Uitloggen"):
        assert dutch not in html


def test_language_switch_back_and_forth(compiled_catalogs, organiser_client):
    assert "Overzicht" in page_in(organiser_client, "nl", "/admin/program")
    assert "Overview" in page_in(organiser_client, "en", "/admin/program")
    assert "Overzicht" in page_in(organiser_client, "nl", "/admin/program")


def test_outside_a_request_the_source_language(app):
    """The CLI runs in an app context without a request: English, and choosing it never fails."""
    from flask_babel import get_locale, gettext

    from kiosk.web.i18n import select_locale

    assert gettext("line %(line)s: name is missing", line=3) == "line 3: name is missing"  # no app at all
    with app.app_context():
        assert str(select_locale()) == "en"
        assert str(get_locale()) == "en"


def test_account_errors_in_the_language_of_the_request(compiled_catalogs, app, db):
    from flask_babel import force_locale

    from kiosk.data import accounts

    with pytest.raises(accounts.AccountError, match="at least 8 characters"):
        accounts.add_user(db, "a@example.org", "short", "host")
    with app.test_request_context(), force_locale("nl"):
        with pytest.raises(accounts.AccountError, match="minstens 8 tekens"):
            accounts.add_user(db, "a@example.org", "short", "host")


@pytest.mark.parametrize("places, dutch, english", [(1, "1 plaats vrij", "1 place left"), (5, "5 plaatsen vrij", "5 places left")])
def test_places_left_has_plural_forms(compiled_catalogs, app, places, dutch, english):
    from flask import render_template_string
    from flask_babel import force_locale

    template = "{{ ngettext('%(num)s place left', '%(num)s places left', n) }}"
    with app.test_request_context():
        with force_locale("nl"):
            assert render_template_string(template, n=places) == dutch
        with force_locale("en"):
            assert render_template_string(template, n=places) == english


def test_scan_outcomes_and_session_kinds_in_the_request_language(compiled_catalogs, app):
    """The attendee page's scan history and the registration form label each row in the reader's language."""
    from flask_babel import force_locale

    from kiosk.outcomes import Outcome
    from kiosk.web.rendering import kind_label, outcome_label

    with app.test_request_context():
        with force_locale("nl"):
            assert outcome_label(Outcome.CLEARED) == "zaal leeggemaakt"
            assert outcome_label(Outcome.CHECKED_IN) == "ingecheckt"
            assert kind_label("walk") == "wandeling"
        with force_locale("en"):
            assert outcome_label(Outcome.CLEARED) == "room emptied"
            assert kind_label("walk") == "walk"
        assert outcome_label("something_new") == "something_new"  # an outcome without a label shows as it is
        assert kind_label("workshop") == "workshop"


def test_a_locale_forced_for_a_while_inside_a_request_gets_its_own_catalogue(compiled_catalogs, app):
    """Templates look the catalogue up once per request (kiosk.web.catalogue); a mail rendered in the
    attendee's language in the middle of a Dutch request is still in that language, and the page after it Dutch."""
    from flask import render_template_string
    from flask_babel import force_locale

    from kiosk.outcomes import Outcome
    from kiosk.web.rendering import outcome_label

    template = "{{ _('room emptied') }}"
    with app.test_request_context(headers={"Accept-Language": "nl"}):
        assert render_template_string(template) == "zaal leeggemaakt"
        with force_locale("en"):
            assert render_template_string(template) == "room emptied"
            assert outcome_label(Outcome.CLEARED) == "room emptied"
        assert render_template_string(template) == "zaal leeggemaakt"
        assert outcome_label(Outcome.CLEARED) == "zaal leeggemaakt"
