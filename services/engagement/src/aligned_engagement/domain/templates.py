"""Response templates: a body per brand, variants per language, variables filled in (no I/O)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime

VARIABLES = ("reviewer_name", "brand", "post_link")
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


@dataclass(frozen=True)
class Template:
    id: uuid.UUID
    brand_id: uuid.UUID
    name: str
    body: str
    variants: dict[str, str] = field(default_factory=dict)
    updated_at: datetime | None = None

    def body_for(self, language: str | None) -> str:
        """The item's language ("de-AT" falls back to "de"), else the default body."""
        if language:
            lang = language.lower()
            for key in (lang, lang.split("-")[0]):
                if key in self.variants:
                    return self.variants[key]
        return self.body

    def render(self, language: str | None, values: dict[str, str]) -> str:
        # Only the known variables are replaced; braces around anything else stay as written.
        return _PLACEHOLDER.sub(
            lambda m: values.get(m.group(1), "") if m.group(1) in VARIABLES else m.group(0),
            self.body_for(language),
        )


def unknown_variables(text: str) -> list[str]:
    return sorted({m.group(1) for m in _PLACEHOLDER.finditer(text)} - set(VARIABLES))
