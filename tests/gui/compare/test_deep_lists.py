"""Ranked lists go deeper than 10: "Show more" pages down to the retrieval depth, selecting
a passage shows it in the other list however deep it is ranked there (or says its rank when
it is below the depth), and a gold passage below the depth shows its exact rank and score."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from ..helpers import wait_prepared

pytestmark = [pytest.mark.models, pytest.mark.xquad, pytest.mark.slow]


def test_show_more_and_follow_the_selection(window, config, qtbot):
    c = window.controller
    assert window.open_workspace(dataclasses.replace(config, query_langs=("th",), k=14))
    wait_prepared(qtbot, c)
    compare = window.views["compare"]
    a, b = compare.lists
    assert len([x for x in a.cards if not x.hit.beyond]) == 10 and a.more_button.isVisible()
    a.more_button.click()
    assert len([x for x in a.cards if not x.hit.beyond]) == 14 and not a.more_button.isVisible()
    c.shown = 10
    # a query where B ranks A's first passage deeper than 10 (within the depth)
    for row in c.rows:
        c.select_query(row.query.id)
        first = c.query_view.lists[0][0].passage.id
        rank_b = c.comparison.runs[1].rank_of(row.query.id, first)
        if rank_b and 10 < rank_b <= 14:
            break
    else:
        pytest.skip("no query where model B ranks A's best passage between 11 and 14")
    c.select_passage(first)
    assert b.card(first) is not None and b.card(first).hit.rank == rank_b
    assert b.card(first).property("selected") and not b.notice.isVisible()


def test_below_the_depth_the_exact_rank_and_score(window, config, qtbot):
    c = window.controller
    assert window.open_workspace(dataclasses.replace(config, query_langs=("th",), k=2))
    wait_prepared(qtbot, c)
    compare = window.views["compare"]
    ws = c.workspace
    for row in c.rows:
        if row.ranks[1] is not None and row.ranks[1] > 2:  # B misses the gold passage
            break
    else:
        pytest.skip("model B finds every gold passage in its top 2")
    c.select_query(row.query.id)
    gold = sorted(c.query_view.gold)[0]
    retriever = ws.retriever(1, "en")
    task = c.comparison.task
    from clirlens.core.progress import run

    q = run(retriever.embed_queries(task.queries))[[x.id for x in task.queries].index(row.query.id)]
    scores = retriever.passage_vectors @ q
    ids = [p.id for p in task.corpus]
    want_score = float(scores[ids.index(gold)])
    want_rank = 1 + int(np.count_nonzero(scores > want_score))
    assert want_rank > 2
    title = compare.titles[1].text()
    assert f"rank {want_rank}, score {want_score:.4f}" in title and "not in top 2" in title
    # selecting, in A's list, a passage B does not rank in its top 2: B says where it is
    others = [
        h.passage.id
        for h in c.query_view.lists[0]
        if c.comparison.runs[1].rank_of(row.query.id, h.passage.id) is None
    ]
    if others:
        c.select_passage(others[0])
        b = compare.lists[1]
        assert b.notice.isVisible() and "not in this model's top 2: rank" in b.notice.text()
