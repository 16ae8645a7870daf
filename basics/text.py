"""Text folding: the one way user input and stored text are compared."""

from __future__ import annotations

import unicodedata
from functools import lru_cache


@lru_cache(maxsize=1 << 16)  # the search folds every word of every record
def fold(text: str) -> str:
    """Lower case without diacritics; ł/Ł become l, which Unicode does not decompose
    (so ``!Język`` finds ``jezyk`` and ``bezdomność`` equals ``bezdomnosc``)."""
    text = text.lower().replace("ł", "l")
    if text.isascii():
        return text
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
