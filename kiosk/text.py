"""Text helpers shared by import, search and badges: folding for search, display names."""

import functools
import unicodedata

# Letters NFKD does not decompose.
UNDECOMPOSED_LETTERS = str.maketrans({
    "ø": "o", "Ø": "O", "ß": "ss", "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "æ": "ae", "Æ": "AE", "œ": "oe",
    "Œ": "OE", "ı": "i",
})


def fold(text):
    """TEXT lower-cased without diacritics, so 'Zoë Çelik' is found by 'zoe celik'."""
    if not text:
        return ""
    # An import folds every name, organisation and e-mail of its file (benchmarks/bench_import.py):
    # ASCII needs only lower(), and other text is folded word by word through a cache, as names repeat.
    if text.isascii():
        return " ".join(text.lower().split())
    # A word's decomposition may hold a space ('¨' becomes ' ̈'), hence the second split.
    return " ".join(" ".join(_fold_word(word) for word in text.split()).split())


@functools.lru_cache(maxsize=65536)
def _fold_word(word):
    """One word folded: decomposed, its combining marks dropped, case-folded."""
    decomposed = unicodedata.normalize("NFKD", word)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return stripped.translate(UNDECOMPOSED_LETTERS).casefold()


def display_name(first_name="", name_prefix="", last_name=""):
    """'Jan', 'van der', 'Berg' -> 'Jan van der Berg'."""
    return " ".join(part.strip() for part in (first_name, name_prefix, last_name) if part and part.strip())


def search_text(name, organisation="", email=""):
    """The folded text attendee search matches against."""
    return fold(" ".join(part for part in (name, organisation, email or "") if part))
