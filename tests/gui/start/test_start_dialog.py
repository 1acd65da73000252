"""The start dialog: a bad folder keeps it open with the error, the XQuAD download runs in a
worker against a local HTTP server (and refuses a wrong checksum), offline with nothing
local shows what to do, models are picked and the config comes out right."""

from __future__ import annotations

import shutil

import pytest
from PySide6.QtCore import Qt

from clirlens.core.models.catalog import model_choices
from clirlens.core.workspace.config import WorkspaceConfig
from clirlens.gui.shell.main_window import _validate
from clirlens.gui.start.dialog import StartDialog


def _dialog(qtbot, **kw) -> StartDialog:
    kw.setdefault("choices", model_choices([], cache={}))
    kw.setdefault("offline", False)
    dialog = StartDialog(validate=_validate, **kw)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def _tick(dialog: StartDialog, *args: str) -> None:
    for arg in args:
        item = dialog.picker._find(arg)
        item.setCheckState(Qt.CheckState.Checked)


def test_bad_folder_keeps_the_dialog_open_with_the_error(qtbot, tmp_path):
    dialog = _dialog(qtbot)
    dialog.xquad_edit.setText(str(tmp_path / "missing"))
    dialog.accept()
    assert dialog.isVisible() and "tick at least two models" in dialog.error_label.text()
    _tick(dialog, "bm25", "me5-small")
    dialog.accept()
    assert dialog.isVisible() and "XQuAD folder not found" in dialog.error_label.text()
    dialog.xquad_edit.setText("")
    dialog.accept()
    assert "choose the XQuAD folder" in dialog.error_label.text()


@pytest.mark.xquad
def test_config_from_the_form(qtbot, xquad_dir, tmp_path):
    folder = tmp_path / "my-model"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    (folder / "model.safetensors").write_bytes(b"x")
    dialog = _dialog(qtbot)
    dialog.xquad_edit.setText(str(xquad_dir))
    dialog._refresh_langs()
    assert dialog.query_lang.currentText() == "th" and dialog.doc_lang.currentText() == "en"
    dialog.query_lang.setCurrentText("hi")
    assert dialog.picker.add_folder(str(folder))
    assert not dialog.picker.add_folder(str(tmp_path))  # not a model folder
    assert "not a model folder" in dialog.picker.error_label.text()
    _tick(dialog, "bm25")
    dialog.subset.setValue(2)
    dialog.dtype.setCurrentText("bf16")
    config = dialog.config()
    assert config.models == ("bm25", str(folder.resolve()))
    assert config.query_langs[0] == "hi" and config.doc_langs[0] == "en"
    assert len(config.query_langs) == 12 and config.subset == 2 and config.dtype == "bf16"
    dialog.accept()
    assert dialog.result() == StartDialog.DialogCode.Accepted
    assert dialog.added_folders == [str(folder.resolve())]
    # and back: a dialog opened on that config shows it
    again = _dialog(qtbot, config=config)
    assert again.config() == WorkspaceConfig(**{**config.to_dict()})


def test_offline_with_nothing_local_shows_the_way_out(qtbot):
    dialog = _dialog(qtbot, offline=True)
    note = dialog.picker.help_label
    assert note.isVisible() and note.text().startswith("Offline (HF_HUB_OFFLINE is set)")
    assert "hf download" in note.text() and "Add model folder" in note.text()
    webfaq = dialog.picker._find("webfaq")
    assert not webfaq.flags() & Qt.ItemFlag.ItemIsEnabled  # cannot be ticked offline
    assert dialog.picker._find("bm25").flags() & Qt.ItemFlag.ItemIsEnabled
    dialog.picker.hub_edit.setText("org/some-model")
    dialog.picker._on_add_hub_clicked()
    assert "not on this machine and the hub is offline" in dialog.picker.error_label.text()
    assert dialog.picker.selected() == []


@pytest.mark.xquad
def test_download_in_a_worker_then_open(qtbot, xquad_dir, tmp_path, serve):
    dest = tmp_path / "xquad"
    dialog = _dialog(qtbot, download_dir=str(dest), download_url=serve(xquad_dir))
    qtbot.mouseClick(dialog.download_button, Qt.MouseButton.LeftButton)
    assert dialog.download_radio.isChecked()
    qtbot.waitUntil(lambda: dialog.xquad_edit.text() == str(dest), timeout=60_000)
    qtbot.waitUntil(lambda: not dialog.downloads.busy, timeout=10_000)
    assert dialog.download_bar.value() == 1000
    assert "downloaded and verified" in dialog.download_label.text()
    assert dialog.xquad_radio.isChecked() and dialog.query_lang.count() == 12
    assert sorted(p.name for p in dest.iterdir()) == sorted(
        p.name for p in xquad_dir.glob("xquad.*.json")
    )
    assert dialog.download_button.text() == "Download"
    assert dialog.downloaded_to == str(dest)


@pytest.mark.xquad
def test_download_with_a_wrong_checksum_is_refused(qtbot, xquad_dir, tmp_path, serve):
    served = tmp_path / "served"
    shutil.copytree(xquad_dir, served)
    data = bytearray((served / "xquad.ar.json").read_bytes())
    data[-10] ^= 4
    (served / "xquad.ar.json").write_bytes(bytes(data))
    dest = tmp_path / "xquad"
    dialog = _dialog(qtbot, download_dir=str(dest), download_url=serve(served))
    qtbot.mouseClick(dialog.download_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.error_label.isVisible(), timeout=60_000)
    assert "xquad.ar.json" in dialog.error_label.text()
    assert "fails its checksum" in dialog.error_label.text()
    qtbot.waitUntil(lambda: not dialog.downloads.busy, timeout=10_000)
    assert not (dest / "xquad.ar.json").exists()
    assert dialog.xquad_edit.text() == ""


def test_a_run_file_is_added_as_a_system(qtbot, tmp_path):
    trec = tmp_path / "pyserini.th-en.trec"
    trec.write_text("q1 Q0 a000-p00 1 2.0 bm25\n")
    dialog = _dialog(qtbot)
    assert not dialog.picker.add_run(str(tmp_path / "missing.trec"), "bm25x", "th-en")
    assert "does not exist" in dialog.picker.error_label.text()
    assert dialog.picker.add_run(str(trec), "pyserini", "th-en")
    _tick(dialog, "me5-small")
    assert dialog.picker.selected() == ["me5-small", f"run:pyserini=th-en:{trec}"]
    item = dialog.picker._find(f"run:pyserini=th-en:{trec}")
    assert "[run file]" in item.text() and "th-en" in item.text()


def test_a_collection_by_name(qtbot):
    dialog = _dialog(qtbot)
    dialog.irds_edit.setText("mr-tydi/th/test")
    dialog.irds_radio.setChecked(True)
    _tick(dialog, "bm25", "me5-small")
    config = dialog.config()
    assert (config.kind, config.dataset, config.query_langs) == ("irds", "mr-tydi/th/test", ())
    again = _dialog(qtbot, config=config)
    assert again.irds_radio.isChecked() and again.config() == config
