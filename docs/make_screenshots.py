"""Render the application's main views into docs/*.png (the README's pictures).

Uses the real offline test models (multilingual-e5-small against all-MiniLM-L6-v2, an
English-only model, so the two disagree visibly) on the first articles of XQuAD, offscreen:

    QT_QPA_PLATFORM=offscreen python docs/make_screenshots.py [--subset 3] [--out docs]

Needs CLIRLENS_TEST_MODELS (../shared/tools/test-models) and CLIRLENS_XQUAD. Embeddings go
to the usual cache, so a second run is quick.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from clirlens.core.models.packed import bf16_is_native
from clirlens.core.progress import run
from clirlens.core.workspace.comparison_html import generated_now, render_html
from clirlens.core.workspace.comparison_report import build_report, write_page
from clirlens.core.workspace.config import WorkspaceConfig
from clirlens.gui.services.controller import WorkspaceController
from clirlens.gui.services.settings import Settings
from clirlens.gui.shell.app import SCREENSHOT_SIZE, application, wait_until_prepared
from clirlens.gui.shell.help import show_shortcuts
from clirlens.gui.shell.main_window import MainWindow
from clirlens.gui.start.dialog import StartDialog


@dataclass(frozen=True)
class Shot:
    file: str
    query_lang: str
    doc_lang: str
    sort: str = "disagreement"  # the browser's order; the first row is shown
    select_shared: bool = True  # select a passage both lists contain (cross-highlight)


SHOTS = (
    Shot("compare-th-en.png", "th", "en"),
    Shot("compare-hi-en.png", "hi", "en", sort="order"),
    Shot("compare-el-el.png", "el", "el", sort="rbo"),
    Shot("compare-ar-ar.png", "ar", "ar", sort="order", select_shared=False),
)


def _models() -> tuple[str, str]:
    root = Path(os.environ.get("CLIRLENS_TEST_MODELS", Path.home() / ".cache/clirlens-test-models"))
    me5, minilm = root / "multilingual-e5-small", root / "all-MiniLM-L6-v2"
    if not me5.is_dir() or not minilm.is_dir():
        sys.exit(
            f"test models not found under {root}: build them with "
            "../shared/tools/test-models (or set CLIRLENS_TEST_MODELS)"
        )
    return f"me5-small={me5}", str(minilm)


def render(window: MainWindow, shot: Shot, out: Path) -> Path:
    c = window.controller
    c.set_direction(shot.query_lang, shot.doc_lang)
    failure = wait_until_prepared(c)
    if failure is not None:
        sys.exit(f"{shot.file}: {failure.message}")
    c.set_sort(shot.sort)
    c.select_query(c.rows[0].query.id, force=True)
    app = application()
    for _ in range(5):  # lay the new cards out before selecting among them
        app.processEvents()
    if shot.select_shared and c.query_view is not None:
        # a passage both lists show, as high as possible in both (cross-highlight visible)
        a, b = c.query_view.lists[:2]
        rank_b = {h.passage.id: h.rank for h in b}
        shared = sorted(
            (max(h.rank, rank_b[h.passage.id]), h.passage.id)
            for h in a
            if h.passage.id in rank_b and not h.gold
        )
        if shared:
            c.select_passage(shared[0][1])
    for _ in range(10):
        app.processEvents()
    path = out / shot.file
    if not window.grab().save(str(path)):
        sys.exit(f"cannot write {path}")
    return path


def render_dialog(config: WorkspaceConfig, out: Path) -> Path:
    dialog = StartDialog(config=config, offline=False)
    dialog.resize(820, 680)
    dialog.show()
    app = application()
    for _ in range(5):
        app.processEvents()
    path = out / "start-dialog.png"
    dialog.grab().save(str(path))
    dialog.close()
    return path


def render_shortcuts(window: MainWindow, out: Path) -> Path:
    dialog = show_shortcuts(window)
    app = application()
    for _ in range(5):
        app.processEvents()
    path = out / "shortcuts.png"
    dialog.grab().save(str(path))
    dialog.close()
    return path


def render_report(window: MainWindow, out: Path) -> Path | None:
    """The shared comparison page of th→en, as Chromium shows it (None without Chromium)."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        print("Chromium not found: report.png not rendered", file=sys.stderr)
        return None
    c = window.controller
    c.set_direction("th", "en")
    wait_until_prepared(c)
    report = run(build_report(c.workspace, ("th", "en"), top=6, shown=5))
    page = Path(tempfile.mkdtemp()) / "report.html"
    write_page(page, render_html(report, generated_now()))
    path = out / "report.png"
    subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         f"--window-size={SCREENSHOT_SIZE[0]},{SCREENSHOT_SIZE[1] * 2}",
         f"--screenshot={path}", page.as_uri()],
        capture_output=True, check=True, timeout=120,
    )  # fmt: skip
    return path


def render_preference(window: MainWindow, out: Path) -> Path:
    """The dashboard's XQuAD-R language-preference tab for A and B (five languages)."""
    import time

    window.show_view("evaluate")
    dash = window.views["evaluate"]
    dash.lower.setCurrentWidget(dash.preference)
    panel = dash.preference
    panel.langs_edit.setText("en,th,hi,el,tr")
    panel.compute()
    app = application()
    deadline = time.monotonic() + 1800
    while len(panel.results) < 2 or window.controller.jobs.busy:
        app.processEvents()
        time.sleep(0.05)
        if time.monotonic() > deadline:
            sys.exit("preference.png: XQuAD-R did not finish in 30 minutes")
    dash.splitter.setSizes([120, 640])
    for _ in range(5):
        app.processEvents()
    path = out / "preference.png"
    window.grab().save(str(path))
    return path


# the other views, rendered through the command line's own --screenshot path:
# (file, view, query languages)
VIEW_SHOTS = (
    ("align.png", "align", "th"),
    ("annotate.png", "annotate", "th"),  # a blind demo campaign in a scratch database
    ("evaluate.png", "evaluate", "th,hi,el,ro,tr"),
)


def render_view(file: str, view: str, query_langs: str, xquad: Path, args) -> Path:
    path = args.out / file
    cmd = [
        sys.executable,
        "-c",
        "import sys; from clirlens.gui.shell.entry import main; sys.exit(main())",
        "--xquad", str(xquad),
        *(arg for model in _models() for arg in ("--model", model)),
        "--query-langs", query_langs,
        "--doc-langs", "en",
        "--subset", str(args.subset),
        "--dtype", args.dtype,
        "--screenshot", str(path),
        "--view", view,
    ]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"{file}: {done.stderr.strip().splitlines()[-1:]}")
    return path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--subset", type=int, default=3, help="XQuAD articles (5 passages each)")
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    ap.add_argument(
        "--dtype",
        choices=("fp32", "bf16"),
        default="bf16" if bf16_is_native() else "fp32",
        help="encoder precision (default: bf16 where this CPU runs it natively)",
    )
    args = ap.parse_args()
    xquad = Path(os.environ.get("CLIRLENS_XQUAD", "../shared/data/xquad"))
    if not (xquad / "xquad.en.json").is_file():
        sys.exit(f"XQuAD not found at {xquad}: set CLIRLENS_XQUAD")
    langs = tuple(dict.fromkeys(s.query_lang for s in SHOTS))
    docs = tuple(dict.fromkeys(s.doc_lang for s in SHOTS))
    config = WorkspaceConfig(
        str(xquad),
        models=_models(),
        query_langs=langs,
        doc_langs=docs,
        subset=args.subset,
        dtype=args.dtype,
    )
    application()
    args.out.mkdir(parents=True, exist_ok=True)
    settings = Settings.at(Path(tempfile.gettempdir()) / f"clirlens-docs-{os.getpid()}.ini")
    window = MainWindow(WorkspaceController(), settings, persist=False)
    window.resize(*SCREENSHOT_SIZE)
    window.show()
    if not window.open_workspace(config):
        sys.exit(window.message_bar.message)
    written = [render(window, shot, args.out) for shot in SHOTS]
    written.append(render_dialog(config, args.out))
    written.append(render_shortcuts(window, args.out))
    written.append(render_report(window, args.out))
    written.append(render_preference(window, args.out))
    window.close()
    written += [render_view(f, v, q, xquad, args) for f, v, q in VIEW_SHOTS]
    for path in written:
        if path is not None:
            print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
