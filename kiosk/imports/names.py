"""Person names: a full name split into first name, prefix ('van der') and last name."""

# Longest first, so 'van der' wins over 'van'.
NAME_PREFIXES = sorted(
    (tuple(p.split()) for p in [
        "van", "de", "der", "den", "het", "'t", "te", "ten", "ter", "van der", "van den", "van de", "van het",
        "van 't", "van ter", "van den", "in 't", "in het", "in de", "in den", "op de", "op den", "op het", "op 't",
        "uit de", "uit den", "uit het", "aan de", "aan den", "aan het", "bij de", "bij den", "onder de", "over de",
        "voor de", "voor den", "von", "von der", "von dem", "vom", "zu", "la", "le", "les", "du", "des", "d'", "l'",
        "de la", "de le", "de l'", "del", "della", "dos", "das", "da",
    ]),
    key=len,
    reverse=True,
)
_PREFIXES_BY_FIRST_WORD = {}
for _prefix in NAME_PREFIXES:
    _PREFIXES_BY_FIRST_WORD.setdefault(_prefix[0], []).append(_prefix)
# Particles that belong to a surname without being a Dutch tussenvoegsel: 'El Amrani'.
SURNAME_PARTICLES = {"el", "al", "ben", "bin", "abu", "ibn", "mac", "mc", "o'", "st.", "saint"}


def split_name(full_name):
    """'Jan Willem van der Berg' -> ('Jan Willem', 'van der', 'Berg'); 'Berg, Jan van der' works too."""
    text = " ".join((full_name or "").split())
    if "," in text:
        last, _, rest = (part.strip() for part in text.partition(","))
        first, prefix, _ = _split_first_prefix(rest.split())
        if last and first:
            return first, prefix, last
        text = " ".join(part for part in (rest, last) if part)
    tokens = text.split()
    if len(tokens) <= 1:
        return text, "", ""
    lowered = [t.lower() for t in tokens]
    for start in range(1, len(tokens) - 1):
        for candidate in _PREFIXES_BY_FIRST_WORD.get(lowered[start], ()):
            end = start + len(candidate)
            if end < len(tokens) and tuple(lowered[start:end]) == candidate:
                return " ".join(tokens[:start]), " ".join(tokens[start:end]), " ".join(tokens[end:])
    last_start = len(tokens) - 1
    while last_start > 1 and tokens[last_start - 1].lower() in SURNAME_PARTICLES:
        last_start -= 1
    return " ".join(tokens[:last_start]), "", " ".join(tokens[last_start:])


def _split_first_prefix(tokens):
    """'Jan van der' (the part after the comma) -> ('Jan', 'van der', '')."""
    for start in range(1, len(tokens)):
        for candidate in NAME_PREFIXES:
            if tuple(t.lower() for t in tokens[start:]) == candidate:
                return " ".join(tokens[:start]), " ".join(tokens[start:]), ""
    return " ".join(tokens), "", ""

