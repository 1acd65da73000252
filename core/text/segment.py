"""Words of a text, from the text alone (no model's tokenizer is involved).

Words are the segments between Unicode word boundaries (UAX #29) as ICU computes them; for
Thai, Lao, Khmer, Burmese, Chinese and Japanese, which are written without spaces between
words, ICU's break iterator segments with its dictionaries. Segments made only of
whitespace, control or format characters (ZWSP, ZWJ) are not words; a punctuation mark is a
word of its own. Because the words depend on the text only, two models' word-level
alignments of the same pair of texts have the same rows and columns.

ICU was chosen over PyThaiNLP's ``newmm`` after ``benchmarks/bench_segment.py`` (figures in
the README): one segmenter covers every unspaced script XQuAD has (newmm is Thai only, and a
second segmenter for one language would make a figure depend on which one is installed), and
it is the faster; newmm's Thai words fit multilingual-e5's pieces somewhat better, which the
benchmark reports alongside.

Without PyICU installed (it has binary wheels, ``pyicu-wheels``, for Linux and Windows) the
fallback splits at whitespace and peels punctuation off each run's ends, which leaves Thai
or Chinese phrases whole; :func:`segmenter` names which one is in use and logs a warning
once.
"""

from __future__ import annotations

import itertools
import logging
import re
import threading
import unicodedata
from collections.abc import Callable

Spans = tuple[tuple[int, int], ...]

log = logging.getLogger("clirlens")

_local = threading.local()
_warned = False


def _is_word(segment: str) -> bool:
    return any(unicodedata.category(c)[0] not in "ZC" for c in segment)


def _icu_iterator():
    it = getattr(_local, "iterator", None)
    if it is None:  # a BreakIterator keeps its text: one per thread
        import icu

        it = _local.iterator = icu.BreakIterator.createWordInstance(icu.Locale.getRoot())
    return it


def _utf16_to_index(text: str) -> list[int] | None:
    """Code-point index for each UTF-16 offset when ``text`` has characters beyond the BMP
    (ICU counts those as two units, Python as one); None when the offsets coincide."""
    if all(ord(c) <= 0xFFFF for c in text):
        return None
    table: list[int] = []
    for i, c in enumerate(text):
        table.extend((i, i) if ord(c) > 0xFFFF else (i,))
    table.append(len(text))
    return table


def icu_words(text: str) -> Spans:
    """Character spans of ``text``'s words by ICU word boundaries."""
    it = _icu_iterator()
    it.setText(text)
    cuts = [0, *it]
    table = _utf16_to_index(text)
    if table is not None:
        cuts = [table[c] for c in cuts]
    return tuple((a, b) for a, b in itertools.pairwise(cuts) if _is_word(text[a:b]))


def _is_punct(c: str) -> bool:
    return unicodedata.category(c)[0] in "PS"


def plain_words(text: str) -> Spans:
    """Fallback: whitespace-delimited runs, leading and trailing punctuation split off one
    mark at a time (unspaced scripts stay whole runs)."""
    out: list[tuple[int, int]] = []
    for m in re.finditer(r"\S+", text):
        a, b = m.span()
        tail: list[tuple[int, int]] = []
        while a < b and _is_punct(text[a]):
            out.append((a, a + 1))
            a += 1
        while b > a and _is_punct(text[b - 1]):
            tail.append((b - 1, b))
            b -= 1
        if a < b:
            out.append((a, b))
        out.extend(reversed(tail))
    return tuple(s for s in out if _is_word(text[s[0] : s[1]]))


def _has_icu() -> bool:
    try:
        import icu  # noqa: F401
    except ImportError:
        return False
    return True


def segmenter() -> tuple[str, Callable[[str], Spans]]:
    """The word segmenter in use: ``("icu", icu_words)`` or ``("whitespace", plain_words)``."""
    global _warned
    if _has_icu():
        return "icu", icu_words
    if not _warned:
        _warned = True
        log.warning(
            "PyICU is not installed, so words mode splits at spaces only (Thai, Chinese "
            "and Japanese phrases stay whole); install it with: pip install pyicu-wheels"
        )
    return "whitespace", plain_words


def words(text: str) -> Spans:
    """Character spans of ``text``'s words with the segmenter in use."""
    return segmenter()[1](text)
