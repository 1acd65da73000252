"""Passage markup for the judging screen: query terms and answer spans highlighted."""

from __future__ import annotations

from clirlens.core.text.markup import passage_markup, query_terms, term_spans


def test_query_terms_and_highlight() -> None:
    terms = query_terms("How old was Peyton Manning in Super Bowl 50?", "เพย์ตัน แมนนิง อายุ")
    assert "peyton" in terms and "manning" in terms and "bowl" in terms
    assert "how" not in terms and "was" not in terms and "50" not in terms
    assert "อายุ" in terms  # a Thai word: no spaces inside, kept
    text = "Manning's team won Super Bowl 50 & more"
    spans = term_spans(text, ["manning", "bowl"])
    assert sorted(spans) == [(0, 7), (25, 29)]
    # whole words with plural endings, not prefixes of other words
    assert term_spans("a pro bowler bowls", ["bowl"]) == [(13, 18)]
    assert term_spans("ทีมแพนเธอร์ส", ["แพนเธอร์"]) == [(3, 11)]  # unspaced: anywhere
    html = passage_markup(text, answers=[(19, 32)], terms=spans)
    assert html.count("background-color:#ffe27a") == 1  # the answer, merged over the term
    assert "Super Bowl 50</span>" in html and "&amp;" in html
    assert "#d6ebff" in html.split("Super")[0]  # the earlier term is highlighted
    assert passage_markup("نص", lang="ar").startswith('<div dir="rtl"')
