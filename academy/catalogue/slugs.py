"""URL slugs for courses and programmes: readable, ASCII, unique, and never changed once given."""

from __future__ import annotations

from collections.abc import Container

from slugify import slugify

MAX_SLUG_LENGTH = 120


def make_unique_slug(text: str, taken: Container[str], fallback: str = "course") -> str:
    """Return a slug for ``text`` that is not in ``taken``.

    Non-Latin text is transliterated; text that yields nothing (emoji, punctuation) falls back
    to ``fallback``. Clashes get ``-2``, ``-3``… The caller adds the result to ``taken``.
    """
    base = slugify(text, max_length=MAX_SLUG_LENGTH, word_boundary=True) or slugify(fallback)
    base = base or "item"
    candidate, number = base, 2
    while candidate in taken:
        candidate = f"{base[: MAX_SLUG_LENGTH - 8]}-{number}"
        number += 1
    return candidate
