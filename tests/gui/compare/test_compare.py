"""The main window over a real workspace (XQuAD subset, real small models): the lists show
exactly what core's search returns, sorting by disagreement, selection, keyboard."""

from __future__ import annotations

import dataclasses

import pytest
from PySide6.QtCore import Qt

from clirlens.core.progress import run
from clirlens.core.retrieval.cache import Cache
from clirlens.core.retrieval.retriever import make_retriever
from clirlens.core.workspace.workspace import Workspace

from ..helpers import passages_shown, wait_prepared

pytestmark = [pytest.mark.models, pytest.mark.xquad, pytest.mark.slow]


def _core_runs(config, cache_root, query_lang="th", doc_lang="en"):
    """The direction's runs computed with core alone (independent retrievers)."""
    ws = Workspace(config)
    task = run(ws.task(query_lang, doc_lang))
    runs = []
    for spec in ws.specs:
        r = make_retriever(spec, dtype=config.dtype, cache=Cache(cache_root))
        run(r.prepare(task.corpus))
        runs.append(run(r.search(task.queries, min(config.k, len(task.corpus)))))
    return task, runs


def test_lists_show_exactly_what_core_search_returns(window, config, use_shared_cache, qtbot):
    c = window.controller
    assert window.open_workspace(config)
    wait_prepared(qtbot, c)
    compare = window.views["compare"]
    task, runs = _core_runs(config, use_shared_cache)
    assert [r.query.id for r in c.rows] == [q.id for q in task.queries]
    assert len(c.rows) == 105 and window.browser.model.rowCount() == 105
    for step in range(3):  # the first queries, reached with j in the table
        qid = c.rows[step].query.id
        assert c.current_query == qid
        for m, pane in enumerate(compare.lists):
            want = [(sp.passage_id, sp.rank, f"{sp.score:.3f}") for sp in runs[m].top(qid, 10)]
            assert passages_shown(pane) == want
        (gold,) = task.qrels.relevant(qid)
        for m, pane in enumerate(compare.lists):
            card = pane.card(gold)
            rank = runs[m].rank_of(qid, gold)
            if rank is None or rank > 10:
                assert card is None or card.hit.beyond
            else:
                assert card.hit.gold and card.findChild(type(card.rank_label), "goldBadge")
                for answer in task.answers[qid]:
                    assert answer.text in card.body.text()
                    assert "background-color" in card.body.text()
            # the other model's rank and its arrow
            for card in pane.cards:
                other = runs[1 - m].rank_of(qid, card.passage_id)
                shown = card.other_label.text()
                assert shown.startswith(runs[1 - m].name) and (
                    shown.split(": ")[1].split()[0] == (str(other) if other else ">15")
                )
        qtbot.keyClick(window.browser.table, Qt.Key.Key_J)
    # the header: query, its parallel English question, agreement
    assert compare.query_label.text().find(c.query_view.query.text) > 0
    assert compare.parallel_label.text().startswith("en: ")
    assert "overlap@10" in compare.agreement_label.text()


def test_sort_by_disagreement(window, config, qtbot):
    c = window.controller
    window.open_workspace(config)
    wait_prepared(qtbot, c)
    before = c.current_query
    combo = window.browser.sort_combo
    index = combo.findData("disagreement")
    combo.setCurrentIndex(index)
    combo.activated.emit(index)
    assert c.sort_key == "disagreement"
    model = window.browser.model
    k = c.comparison.k
    a, b = c.comparison.runs
    shown = []
    for row in range(model.rowCount()):
        qid = model.data(model.index(row, 0), Qt.ItemDataRole.UserRole)
        (gold,) = c.comparison.task.qrels.relevant(qid)
        ra, rb = (r.rank_of(qid, gold) or k + 1 for r in (a, b))
        ra, rb = min(ra, k + 1), min(rb, k + 1)
        assert model.data(model.index(row, 1)) == (str(ra) if ra <= k else "—")
        assert model.data(model.index(row, 2)) == (str(rb) if rb <= k else "—")
        delta = int(model.data(model.index(row, 3)))
        assert delta == abs(ra - rb)
        shown.append(delta)
    assert shown == sorted(shown, reverse=True) and shown[0] > shown[-1]
    assert len(shown) == 105
    # the current query stays, its row moves with the new order
    assert c.current_query == before
    row = [r.query.id for r in c.rows].index(before)
    assert window.browser.table.currentIndex().row() == row
    # filtering keeps the order and narrows the rows
    window.browser.filter_edit.setText("ซูเปอร์โบว์ล")
    assert 0 < model.rowCount() < 105
    assert all("ซูเปอร์โบว์ล" in r.query.text for r in c.rows)


def test_selecting_a_passage_highlights_it_in_the_other_list(window, config, qtbot):
    c = window.controller
    window.open_workspace(config)
    wait_prepared(qtbot, c)
    left, right = window.views["compare"].lists
    shared = next(card.passage_id for card in left.cards if right.card(card.passage_id))
    qtbot.mouseClick(left.card(shared), Qt.MouseButton.LeftButton)
    assert c.selected_passage == shared
    assert left.card(shared).property("selected") and right.card(shared).property("selected")
    assert sum(bool(card.property("selected")) for card in right.cards) == 1
    # the selected card shows the whole passage
    assert not right.card(shared).body.text().endswith("…")
    qtbot.mouseClick(right.card(shared), Qt.MouseButton.LeftButton)  # again: cleared
    assert c.selected_passage == "" and not left.card(shared).property("selected")


def test_keyboard_navigation(window, config, qtbot):
    c = window.controller
    window.open_workspace(config)
    wait_prepared(qtbot, c)
    window.activateWindow()
    qtbot.waitUntil(lambda: window.isActiveWindow(), timeout=5000)
    ids = [r.query.id for r in c.rows]
    table = window.browser.table
    table.setFocus()
    qtbot.keyClick(table, Qt.Key.Key_J)
    assert c.current_query == ids[1]
    qtbot.keyClick(table, Qt.Key.Key_K)
    assert c.current_query == ids[0]
    qtbot.keyClick(table, Qt.Key.Key_Down)
    assert c.current_query == ids[1]
    qtbot.keyClick(table, Qt.Key.Key_Up)
    assert c.current_query == ids[0]
    left, right = window.views["compare"].lists
    qtbot.keyClick(table, Qt.Key.Key_Tab)
    assert left.hasFocus()
    qtbot.keyClick(left, Qt.Key.Key_J)
    assert c.current_query == ids[1]
    qtbot.keyClick(left, Qt.Key.Key_Tab)
    assert right.hasFocus()
    qtbot.keyClick(right, Qt.Key.Key_Down)
    assert c.current_query == ids[2]
    qtbot.keyClick(right, Qt.Key.Key_K)
    assert c.current_query == ids[1]
    qtbot.keyClick(right, Qt.Key.Key_Backtab)
    assert left.hasFocus()
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert window.browser.filter_edit.hasFocus()
    qtbot.keyClick(window, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    free = window.browser.free_text
    assert free.hasFocus()
    # a free-text query: both lists show core's search of that text
    qtbot.keyClicks(free, "Super Bowl 50")
    qtbot.keyClick(free, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: c.query_view is not None and c.query_view.free_text, timeout=60_000)
    assert c.current_query == ""
    want = run(c.workspace.search_text("Super Bowl 50", "th", "en"))
    for m, pane in enumerate(window.views["compare"].lists):
        assert [x[0] for x in passages_shown(pane)] == [h.passage.id for h in want.lists[m]]
    meta = window.views["compare"].meta_label
    assert "free-text query" in meta.text() and "th → en" in meta.text()  # the default language
    # a Hindi query is labelled Hindi: its language is the user's choice, beside the box
    browser = window.browser
    assert browser.lang_combo.currentText() == "th"
    browser.lang_combo.setCurrentText("hi")
    free.setFocus()
    free.setText("सुपर बाउल 50")
    qtbot.keyClick(free, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: c.query_view.query.text == "सुपर बाउल 50", timeout=60_000)
    assert c.query_view.query.lang == "hi" and "hi → en" in meta.text()
    qtbot.keyClick(free, Qt.Key.Key_Escape)  # back to the dataset query
    assert c.current_query == ids[1] and not c.query_view.free_text


def test_direction_change_prepares_the_other_language(window, config, qtbot):
    """One picker; the previous direction stays on screen until the new one is ready; the
    selected query follows by its parallel id; a prepared direction switches at once."""
    c = window.controller
    window.open_workspace(config)
    wait_prepared(qtbot, c)
    first = c.comparison
    c.select_query(c.rows[3].query.id)
    chosen = c.current_query
    picker = window.browser.directions
    assert [d.arrow for d in picker.list.directions()] == ["th→en", "hi→en"]
    assert picker.text() == "th→en"
    picker.choose(("hi", "en"))
    assert c.pending_direction == ("hi", "en") and c.direction == ("th", "en")
    assert c.comparison is first and c.query_view is not None  # still shown meanwhile
    assert "preparing hi→en" in picker.text()
    wait_prepared(qtbot, c)
    assert c.direction == ("hi", "en")
    assert c.comparison is not first and c.comparison.task.name == "xquad/hi-en"
    assert c.query_view.query.lang == "hi" and c.current_query == chosen  # followed
    picker.choose(("th", "en"))
    assert c.comparison is first and c.pending_direction is None  # prepared before: no job
    assert c.current_query == chosen


def test_prepare_several_directions_in_one_job(window, config, qtbot):
    c = window.controller
    window.open_workspace(dataclasses.replace(config, query_langs=("th", "hi", "el")))
    wait_prepared(qtbot, c)
    titles = []
    c.jobs.jobChanged.connect(lambda t: t and titles.append(t))
    c.prepare_directions([("hi", "en"), ("el", "en"), ("th", "en")])
    qtbot.waitUntil(lambda: not c.jobs.busy, timeout=180_000)
    assert titles == ["Preparing 2 directions"]
    assert c.workspace.comparison("hi", "en") and c.workspace.comparison("el", "en")
    assert c.direction == ("th", "en")  # nothing else changed on screen


def test_align_button_opens_the_alignment_of_the_selected_passage(window, config, qtbot):
    c = window.controller
    window.open_workspace(config)
    wait_prepared(qtbot, c)
    compare = window.views["compare"]
    assert window.current_view == "compare"
    first = compare.lists[0].cards[0].passage_id
    qtbot.mouseClick(compare.lists[0].card(first), Qt.MouseButton.LeftButton)
    qtbot.mouseClick(compare.align_button, Qt.MouseButton.LeftButton)
    assert window.current_view == "align"
    assert c.selected_passage == first  # the align view aligns the query with this passage
