"""Token labels for alignment axes, the same in the window and on the shared page."""

from __future__ import annotations

MAX_LABEL = 14  # characters of a token label on an axis


def short(token: str) -> str:
    """A label cut to :data:`MAX_LABEL` characters (with "…")."""
    token = token.replace("\n", " ")
    return token if len(token) <= MAX_LABEL else token[: MAX_LABEL - 1] + "…"


def labels(text: str, tokens: tuple[str, ...], offsets) -> tuple[str, ...]:
    """Axis labels: each token's span of the original text (no ``▁``/``##`` markers), or
    the token itself when it has no span (``[UNK]`` pieces keep their span)."""
    out = []
    for tok, (a, b) in zip(tokens, offsets, strict=True):
        span = text[a:b].strip() if b > a else ""
        out.append(span or tok)
    return tuple(out)
