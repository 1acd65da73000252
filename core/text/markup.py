"""Passages as the small HTML the views show (presentation only, Qt-free).

**Ranked lists** (:func:`passage_html`): a collapsed passage is a window of about ``limit``
characters centred on the first answer span (or the start of the text), cut at spaces when
there are any nearby, with "…" where text is left out; an expanded one is the whole text.
Answer spans are highlighted with an inline style (QLabel's rich text has no CSS classes).

**The judging screen** (:func:`passage_markup`): the whole passage with query terms and the
gold answer span highlightable. Query terms are the words of the query and of its English
parallel (cross-lingual: a Thai question's words rarely occur in an English passage, its
translation's do): runs of letters, digits and combining marks of at least three
characters, or two in scripts written without spaces between words; common English function
words are left out. A term matches a whole word, case-insensitively, with an optional plural
ending ("Denver" marks "Denver's", "team" marks "teams", "bowl" does not mark "bowler"); in
scripts written without spaces it matches anywhere. The answer span wins where both overlap.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable, Sequence

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


ANSWER_STYLE = HIGHLIGHT
TERM_STYLE = "background-color:#d6ebff; color:#0b3a63; border-bottom:1px solid #3b82c4;"
_STOP_WORDS = (
    "the and for are was were what which who whom whose when where why how did does "
    "has have had that this these those with from into about than then there their they "
    "them his her its our your not but can could would should will shall may might been "
    "being also such only any all some many much more most other one two"
)
_STOP = frozenset(_STOP_WORDS.split())


def _no_spaces(word: str) -> bool:
    """Thai, Lao, Khmer, Burmese, CJK: scripts without spaces between words."""
    return any(
        "\u0e00" <= c <= "\u0eff"  # Thai, Lao
        or "\u1000" <= c <= "\u109f"  # Myanmar
        or "\u1780" <= c <= "\u17ff"  # Khmer
        or "\u3040" <= c <= "\u9fff"  # kana, CJK
        for c in word
    )


def words(text: str) -> list[str]:
    """Runs of letters, digits and combining marks (Python's ``\\w`` leaves out the vowel
    signs of Thai and Devanagari, which would cut their words apart)."""
    out, current = [], []
    for ch in text:
        if unicodedata.category(ch)[0] in "LNM":
            current.append(ch)
        elif current:
            out.append("".join(current))
            current = []
    if current:
        out.append("".join(current))
    return out


def query_terms(*texts: str | None) -> list[str]:
    """Distinct highlightable terms of the given texts, longest first (module notes)."""
    terms: dict[str, None] = {}
    for text in texts:
        for word in words(text or ""):
            folded = word.casefold()
            if folded.isdigit() and len(folded) < 3:
                continue
            long_enough = len(folded) >= 3 or (len(folded) >= 2 and _no_spaces(folded))
            if long_enough and folded not in _STOP:
                terms[folded] = None
    return sorted(terms, key=lambda t: (-len(t), t))


def term_spans(text: str, terms: Iterable[str]) -> list[tuple[int, int]]:
    """Character spans of ``terms`` in ``text`` (module notes)."""
    spans = []
    for term in terms:
        if _no_spaces(term):
            pattern = re.compile(re.escape(term))
        else:
            pattern = re.compile(r"(?<!\w)" + re.escape(term) + r"(?:e?s)?(?!\w)", re.IGNORECASE)
        spans += [(m.start(), m.end()) for m in pattern.finditer(text)]
    return spans


def passage_markup(
    text: str,
    *,
    answers: Sequence[tuple[int, int]] = (),
    terms: Sequence[tuple[int, int]] = (),
    lang: str = "",
) -> str:
    """Escaped ``text`` with answer spans and term spans highlighted (answer first)."""
    n = len(text)
    kind = [0] * n  # 0 plain, 1 term, 2 answer
    for spans, value in ((terms, 1), (answers, 2)):
        for s, e in spans:
            for i in range(max(0, s), min(n, e)):
                kind[i] = max(kind[i], value)
    parts = []
    start = 0
    for i in range(1, n + 1):
        if i == n or kind[i] != kind[start]:
            chunk = html.escape(text[start:i])
            style = {1: TERM_STYLE, 2: ANSWER_STYLE}.get(kind[start])
            parts.append(f'<span style="{style}">{chunk}</span>' if style else chunk)
            start = i
    body = "".join(parts)
    if lang in RTL_LANGS:
        return f'<div dir="rtl" align="right">{body}</div>'
    return f"<div>{body}</div>"
