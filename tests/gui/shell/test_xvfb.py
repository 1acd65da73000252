"""The real application in a real X window (Xvfb, Qt's xcb platform): it starts, opens a
workspace, shows it, and closes cleanly, remembering its window in the settings."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

pytestmark = [pytest.mark.models, pytest.mark.xquad, pytest.mark.slow]
DRIVER = Path(__file__).with_name("xvfb_app.py")


def test_the_application_starts_opens_a_workspace_and_closes_under_xvfb(
    xquad_dir, model_args, fast_dtype, tmp_path
):
    if shutil.which("xvfb-run") is None:
        if os.environ.get("CI"):
            pytest.fail("xvfb-run is missing: .ci/run installs xvfb")
        pytest.skip("xvfb-run is not installed (apt install xvfb)")
    env = {k: v for k, v in os.environ.items() if not k.startswith("QT_")}
    env.update(
        QT_QPA_PLATFORM="xcb",
        HOME=str(tmp_path / "home"),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        CLIRLENS_CACHE_DIR=str(tmp_path / "cache"),
    )
    shot = tmp_path / "window.png"
    argv = ["--xquad", str(xquad_dir), "--model", model_args[0], "--model", model_args[1]]
    argv += ["--query-langs", "th", "--subset", "1", "--dtype", fast_dtype]
    xvfb = ["xvfb-run", "-a", "-s", "-screen 0 1366x768x24"]
    done = subprocess.run(
        [*xvfb, sys.executable, str(DRIVER), str(shot), *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "platform=xcb" in done.stdout and "title=clirlens — xquad" in done.stdout
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    image = QImage(str(shot))
    assert image.width() > 800 and image.height() > 500
    colours = {
        image.pixel(x, y) for x in range(0, image.width(), 9) for y in range(0, image.height(), 9)
    }
    assert len(colours) > 40  # the X server shows the window's content, not a blank
    settings = list((tmp_path / "config").rglob("*.conf")) + list(
        (tmp_path / "config").rglob("*.ini")
    )
    assert settings and "geometry" in settings[0].read_text(encoding="utf-8", errors="replace")
