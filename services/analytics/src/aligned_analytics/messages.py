"""Every word the client report page says, from the message catalogues in
locales/<language>/LC_MESSAGES (gettext .po files read with Babel, as approval's pages and
mails do: ADR 0011, 0024). The msgids are keys; a key missing in a language falls back to English."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po

from aligned_analytics.domain.report_links import LANGUAGES

LOCALES = Path(__file__).resolve().parent / "locales"
FALLBACK = "en"


@cache
def catalogue(language: str) -> dict[str, str]:
    with (LOCALES / language / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return {
            m.id: m.string
            for m in read_po(po, locale=language)
            if isinstance(m.id, str) and m.id and isinstance(m.string, str) and m.string
        }


def text(language: str | None, key: str, **fields: object) -> str:
    """The key's message in the language (English when the language or the key is unknown)."""
    language = language if language in LANGUAGES else FALLBACK
    template = catalogue(language).get(key) or catalogue(FALLBACK)[key]
    return template.format(**fields)
