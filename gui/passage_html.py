"""Passage text as the small HTML the ranked lists show (presentation only, Qt-free).

A collapsed passage is a window of about ``limit`` characters centred on the first answer
span (or the start of the text), cut at spaces when there are any nearby, with "…" where
text is left out; an expanded one is the whole text. Answer spans are highlighted with
``<span class="answer">``-like inline style (QLabel's rich text has no CSS classes).
"""

from __future__ import annotations

import html
from collections.abc import Sequence

RTL_LANGS = frozenset({"ar", "fa", "he", "ur", "ps", "yi", "ug", "sd", "dv"})
HIGHLIGHT = "background-color:#ffe27a; color:#1b1b1b; font-weight:600;"


def _merge(spans: Sequence[tuple[int, int]], n: int) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for s, e in sorted((max(0, s), min(n, e)) for s, e in spans if e > s):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return [(s, e) for s, e in out if s < e]


def _snap(text: str, pos: int, forward: bool, slack: int = 24) -> int:
    """Move ``pos`` to the nearest space within ``slack`` characters (unchanged if none)."""
    rng = (
        range(pos, min(len(text), pos + slack)) if forward else range(pos, max(0, pos - slack), -1)
    )
    for i in rng:
        if text[i].isspace():
            return i + (0 if forward else 1)
    return pos


def window(text: str, spans: Sequence[tuple[int, int]], limit: int) -> tuple[int, int]:
    """The [start, end) character window shown for a collapsed passage."""
    n = len(text)
    if n <= limit:
        return 0, n
    merged = _merge(spans, n)
    if merged:
        s, e = merged[0]
        centre = (s + e) // 2
        start = max(0, min(centre - limit // 2, n - limit))
        start = min(start, s)  # never cut the answer's head
    else:
        start = 0
    end = min(n, start + limit)
    if start > 0:
        start = (
            _snap(text, start, forward=False)
            if not merged
            else min(_snap(text, start, forward=False), merged[0][0])
        )
    if end < n:
        end = _snap(text, end, forward=True)
    return start, end


def passage_html(
    text: str,
    spans: Sequence[tuple[int, int]] = (),
    *,
    limit: int = 380,
    expanded: bool = False,
    lang: str = "",
) -> str:
    """HTML for a passage: escaped text, answer spans highlighted, collapsed to a window
    around the first answer unless ``expanded``; right-to-left for RTL languages."""
    start, end = (0, len(text)) if expanded else window(text, spans, limit)
    parts = ["…"] if start > 0 else []
    pos = start
    for s, e in _merge(spans, len(text)):
        s, e = max(s, start), min(e, end)
        if s >= e:
            continue
        parts.append(html.escape(text[pos:s]))
        parts.append(f'<span style="{HIGHLIGHT}">{html.escape(text[s:e])}</span>')
        pos = e
    parts.append(html.escape(text[pos:end]))
    if end < len(text):
        parts.append("…")
    body = "".join(parts)
    if lang in RTL_LANGS:
        return f'<div dir="rtl" align="right">{body}</div>'
    return body
