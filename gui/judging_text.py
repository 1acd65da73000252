"""A pooled passage as HTML for the judging screen, with query terms and the gold answer
span highlightable (presentation only, Qt-free).

Query terms are the words of the query and of its English parallel (cross-lingual: a Thai
question's words rarely occur in an English passage, its translation's do): runs of letters,
digits and combining marks of at least three characters, or two in scripts written without spaces between
words; common English function words are left out. A term matches a whole word,
case-insensitively, with an optional plural ending ("Denver" marks "Denver's", "team"
marks "teams", "bowl" does not mark "bowler"); in scripts written without spaces it matches
anywhere. The answer span wins where both overlap.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable, Sequence

from clirlens.gui.passage_html import RTL_LANGS

ANSWER_STYLE = "background-color:#ffe27a; color:#1b1b1b; font-weight:600;"
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
