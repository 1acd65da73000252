"""The judging screen over a real workspace (XQuAD subset, real small models) and a real
SQLite file: a whole round driven by key presses, undo/redo, notes, blind mode, resuming
after reopening, the grades in the compare view, agreement, and the screenshot."""

from __future__ import annotations

import dataclasses

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from clirlens.core.paths import data_dir
from clirlens.gui.annotate import view as annotate_view
from clirlens.gui.annotate.dialog import CampaignDialog
from clirlens.gui.services.controller import WorkspaceController
from clirlens.gui.shell import entry
from clirlens.gui.shell.app import SCREENSHOT_SIZE
from clirlens.gui.shell.main_window import MainWindow

from ..conftest import SUBSET
from ..helpers import wait_prepared

pytestmark = [pytest.mark.models, pytest.mark.xquad, pytest.mark.slow]
CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier


class _Dialog(CampaignDialog):
    """The "New campaign…" dialog, filled in and accepted as a user would."""

    def exec(self) -> int:
        assert [f"{q} → {d}" for q, d in self.directions] == ["th → en"]
        self.mode_combo.setCurrentIndex(self.mode_combo.findData("disagreement"))
        self.count_spin.setValue(3)
        self.depth_spin.setValue(3)
        assert self.blind_check.isChecked()
        self.annotator_edit.setText("alice")
        self.accept()
        assert self.created is not None, self.error_label.text()
        return self.result()


def _open(window, config, qtbot):
    c = window.controller
    assert window.open_workspace(config)
    wait_prepared(qtbot, c)
    window.show_view("annotate")
    window.activateWindow()
    view = window.views["annotate"]
    view.setFocus()
    return view


def _key(qtbot, view, key, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    qtbot.keyClick(view, key, modifier)


def test_a_judging_round_by_keys(window, config, tmp_path, qtbot, monkeypatch, settings):
    db = tmp_path / "judgments.sqlite"
    config = dataclasses.replace(config, db=str(db))
    monkeypatch.setattr(annotate_view, "CampaignDialog", _Dialog)
    view = _open(window, config, qtbot)
    c = window.controller
    assert view.session is None and "No judging campaign" in view.placeholder.text()
    view.new_campaign()
    s = view.session
    assert s is not None and s.annotator == "alice" and s.campaign.blind
    items = list(s.items)
    assert len({it.query.id for it in items}) == 3 and s.position == 0
    rows = c.comparison.browse("", "disagreement", c.pair)
    assert items[0].query.id == rows[0].query.id

    # blind: who found the first passage is hidden until it is judged
    assert items[0].blinded and "hidden" in view.panel.sources_label.text()
    # ... and the query browser hides the per-model gold ranks meanwhile
    table = window.browser.table
    assert c.blind and all(table.isColumnHidden(col) for col in range(1, 4))
    assert not table.isColumnHidden(0) and not window.browser.sort_combo.isEnabled()
    assert view.panel.query_label.text().count(items[0].query.text) == 1
    for key in (Qt.Key.Key_2, Qt.Key.Key_0, Qt.Key.Key_3):
        _key(qtbot, view, key)
    assert s.position == 3 and view.overall.value() == 3
    repo = view.service.repository()
    assert [repo.judgment(it.id, "alice").grade for it in items[:3]] == [2, 0, 3]
    assert repo.judgment(items[0].id, "alice").seconds_spent > 0
    for _ in range(3):
        _key(qtbot, view, Qt.Key.Key_Left)
    assert s.position == 0 and view.panel.grade_buttons[2].isChecked()
    shown = view.panel.sources_label.text()
    assert "hidden" not in shown and any(src.model in shown for src in s.items[0].sources)
    for _ in range(3):
        _key(qtbot, view, Qt.Key.Key_Right)

    _key(qtbot, view, Qt.Key.Key_S)  # skip item 3
    assert s.position == 4
    draws = []
    monkeypatch.setattr(
        view.panel,
        "show_item",
        lambda session, f=view.panel.show_item: draws.append(1) or f(session),
    )
    _key(qtbot, view, Qt.Key.Key_1)
    assert repo.judgment(items[4].id, "alice").grade == 1 and s.position == 5
    assert len(draws) == 1  # one redraw per key press
    monkeypatch.undo()
    monkeypatch.setattr(annotate_view, "CampaignDialog", _Dialog)

    _key(qtbot, view, Qt.Key.Key_Z, CTRL)  # undo: item 4 unjudged, shown again, blind again
    assert repo.judgment(items[4].id, "alice") is None
    assert s.position == 4 and "hidden" in view.panel.sources_label.text()
    _key(qtbot, view, Qt.Key.Key_Z, CTRL | SHIFT)  # redo
    assert repo.judgment(items[4].id, "alice").grade == 1
    _key(qtbot, view, Qt.Key.Key_Z, CTRL)
    _key(qtbot, view, Qt.Key.Key_Y, CTRL)  # redo again, the other way
    assert repo.judgment(items[4].id, "alice").grade == 1 and s.position == 4

    _key(qtbot, view, Qt.Key.Key_N)  # a note on the judged item, saved with Enter
    assert view.panel.note_edit.hasFocus()
    qtbot.keyClicks(view.panel.note_edit, "close call 2")  # digits type into the note
    qtbot.keyClick(view.panel.note_edit, Qt.Key.Key_Return)
    got = repo.judgment(items[4].id, "alice")
    assert (got.grade, got.note) == (1, "close call 2")
    _key(qtbot, view, Qt.Key.Key_Z, CTRL)  # undo the note only
    got = repo.judgment(items[4].id, "alice")
    assert (got.grade, got.note) == (1, None)
    _key(qtbot, view, Qt.Key.Key_Y, CTRL)
    assert repo.judgment(items[4].id, "alice").note == "close call 2"
    assert {j.item_id: j.grade for j in repo.judgments(s.campaign.name, "alice")} == {
        items[0].id: 2,
        items[1].id: 0,
        items[2].id: 3,
        items[4].id: 1,
    }

    # the campaign is blind in every view until it is closed; then the compare view shows
    # the grades, and the ranks again
    window.show_view("compare")
    assert c.blind and table.isColumnHidden(1) and window.blind_bar.isVisible()
    qtbot.mouseClick(window.blind_bar.close_button, Qt.MouseButton.LeftButton)
    assert view.session is None and not window.blind_bar.isVisible()
    assert not c.blind and not table.isColumnHidden(1) and window.browser.sort_combo.isEnabled()
    c.select_query(items[0].query.id, force=True)
    hits = [h for hits in c.query_view.lists for h in hits if h.passage.id == items[0].passage_id]
    assert hits and all(h.judged == 2 for h in hits)
    # Ctrl+Z works everywhere: one undo stack in the window's Edit menu
    compare = window.views["compare"]
    _key(qtbot, compare, Qt.Key.Key_Z, CTRL)  # undoes the note of item 4
    assert repo.judgment(items[4].id, "alice").note is None
    _key(qtbot, compare, Qt.Key.Key_Y, CTRL)
    assert repo.judgment(items[4].id, "alice").note == "close call 2"
    assert window.undo_action.text().replace("&", "").startswith("Undo judge item 5")

    # a second annotator: the agreement panel appears
    for it, g in zip(items[:3], (2, 1, 3), strict=True):
        repo.judge(it.id, "bob", g)
    window.show_view("annotate")
    assert view.session is None and "No campaign is open" in view.placeholder.text()
    view.open_campaign(s.campaign.name)
    assert c.blind and window.blind_bar.isVisible()
    view._refresh_agreement()
    assert view.agreement.table.isVisibleTo(view.agreement)
    assert view.agreement.table.item(0, 0).text() == "alice – bob"
    assert view.agreement.table.item(0, 2).text() == "3"
    assert "α" in view.agreement.alpha_label.text()

    # reopening: resumes right after the last item judged (4), skipping the judged ones
    view.service.close()
    again = MainWindow(WorkspaceController(cache=c.cache), settings)
    qtbot.addWidget(again)
    again.show()
    view2 = _open(again, config, qtbot)
    assert view2.session is not None and view2.session.campaign.name == s.campaign.name
    assert view2.session.annotator == "alice"  # remembered in the window's settings
    assert view2.session.position == 5
    assert view2.session.judged == 4 and view2.session.items[5].blinded
    again.controller.shutdown()
    again.close()
    view2.service.close()


def test_annotate_screenshot(xquad_dir, model_args, tmp_path, use_shared_cache, fast_dtype):
    png = tmp_path / "annotate.png"
    argv = ["--xquad", str(xquad_dir), "--model", model_args[0], "--model", model_args[1]]
    argv += ["--query-langs", "th", "--doc-langs", "en", "--subset", str(SUBSET)]
    argv += ["--dtype", fast_dtype, "--screenshot", str(png), "--view", "annotate"]
    assert entry.main(argv) == 0
    image = QImage(str(png))
    assert (image.width(), image.height()) == SCREENSHOT_SIZE
    colours = {image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, 900, 7)}
    assert len(colours) > 50
    assert not (data_dir() / "judgments.sqlite").exists()  # a scratch database was used
