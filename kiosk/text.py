"""Text helpers shared by import, search and badges: folding for search, display names."""

import unicodedata


def fold(text):
    """TEXT lower-cased without diacritics, so 'Zoë Çelik' is found by 'zoe celik'."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    # Letters NFKD does not decompose.
    stripped = stripped.translate(str.maketrans({"ø": "o", "Ø": "O", "ß": "ss", "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ı": "i"}))
    return " ".join(stripped.casefold().split())


def display_name(first_name="", name_prefix="", last_name=""):
    """'Jan', 'van der', 'Berg' -> 'Jan van der Berg'."""
    return " ".join(part.strip() for part in (first_name, name_prefix, last_name) if part and part.strip())


def search_text(name, organisation="", email=""):
    """The folded text attendee search matches against."""
    return fold(" ".join(part for part in (name, organisation, email or "") if part))
