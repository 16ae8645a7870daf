"""Translations: one catalogue per feature, Polish and English.

A catalogue is a plain dict ``{"en": {key: template}, "pl": {key: template}}``.
A template is a ``str.format`` string, or, for a message that depends on a
number, a dict of CLDR plural categories (``one``, ``few``, ``many``,
``other``) chosen by the ``count`` argument with Babel's plural rules — so
Polish says 1 rozwiązanie, 2 rozwiązania, 5 rozwiązań.

Arguments are inserted as given: a caller that puts user text into Markdown
escapes it first (see ``bot.reply.md_escape``).
"""

from __future__ import annotations

import functools
from typing import Any, Mapping

LANGUAGES = ("pl", "en")
DEFAULT_LANGUAGE = "pl"

Template = str | Mapping[str, str]
Catalogue = Mapping[str, Mapping[str, Template]]


@functools.cache
def _plural_rule(lang: str):
    from babel import Locale  # its locale data costs memory: loaded at the first plural, not at start

    return Locale.parse(lang if lang in LANGUAGES else "en").plural_form


class Translator:
    """All catalogues of the running bot, merged; looked up by language and key."""

    def __init__(self) -> None:
        self._messages: dict[str, dict[str, Template]] = {lang: {} for lang in LANGUAGES}

    def register(self, catalogue: Catalogue) -> None:
        for lang, entries in catalogue.items():
            if lang not in self._messages:
                raise ValueError(f"unsupported language {lang!r} in catalogue")
            for key, template in entries.items():
                existing = self._messages[lang].get(key)
                if existing is not None and existing != template:
                    raise ValueError(f"message key {key!r} ({lang}) registered twice")
                self._messages[lang][key] = template

    def keys(self, lang: str) -> set[str]:
        return set(self._messages[lang])

    def has(self, key: str) -> bool:
        return any(key in entries for entries in self._messages.values())

    def __call__(self, lang: str, key: str, /, **kwargs: Any) -> str:
        return self.translate(lang, key, **kwargs)

    def translate(self, lang: str, key: str, /, **kwargs: Any) -> str:
        lang = lang if lang in self._messages else DEFAULT_LANGUAGE
        template = self._messages[lang].get(key)
        if template is None:
            # Fall back to the other language before showing a raw key.
            for other in LANGUAGES:
                template = self._messages[other].get(key)
                if template is not None:
                    break
        if template is None:
            return key
        if not isinstance(template, str):
            template = select_plural(lang, template, kwargs.get("count", 0))
        try:
            return template.format(**kwargs)
        except (KeyError, IndexError, ValueError):
            return template


def select_plural(lang: str, forms: Mapping[str, str], count: Any) -> str:
    rule = _plural_rule(lang)
    try:
        category = rule(abs(count))
    except (TypeError, ValueError):
        category = "other"
    return forms.get(category) or forms.get("other") or next(iter(forms.values()))


def number(value: Any, lang: str, fmt: str = "#,##0.##") -> str:
    """A number as the reader's locale writes it (Polish ``1 234,5``, English ``1,234.5``), with Babel."""
    from babel.numbers import format_decimal  # locale data: loaded when first needed, not at start

    return format_decimal(value, format=fmt, locale=lang if lang in LANGUAGES else DEFAULT_LANGUAGE)
