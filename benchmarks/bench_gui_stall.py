"""Longest event-loop stall of the application window while a workspace is prepared
(model loading, encoding, indexing, searching) in a worker thread.

A QTimer probe fires every 10 ms on the GUI thread; a stall is the time between two ticks
minus the interval. The figure to watch is the longest stall while encoding, indexing and
searching (goal < 100 ms): the window must stay responsive. Two one-time costs are reported
apart because no worker thread can hide them — they hold the GIL inside C code: the first
import of torch/transformers/faiss (phase 1, run in a worker like everything else), and
loading a model, where transformers parses the 17 MB tokenizer.json of an XLM-R vocabulary
with the C json decoder and the Rust tokenizers builds it. Runs on the real test models with
a fresh cache, so encoding really happens; ``--tokenizers DIR`` keeps the built tokenizers
in DIR between runs, so a second run loads them from the tokenizer cache
(core/models/tokcache.py) as a user's second workspace with the same models does.

    python benchmarks/bench_gui_stall.py [--subset 6] [--dtype bf16] [--batch-size 32]
        [--tokenizers DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QElapsedTimer, QTimer

from clirlens.core.retrieval.cache import Cache
from clirlens.core.types import Progress
from clirlens.core.workspace.config import WorkspaceConfig
from clirlens.gui.services.controller import WorkspaceController
from clirlens.gui.services.settings import Settings
from clirlens.gui.shell.app import application, wait_until_prepared
from clirlens.gui.shell.main_window import MainWindow

GOAL_MS = 100.0
INTERVAL_MS = 10


class Probe:
    """Stalls of the GUI thread, by the stage the job reported last."""

    def __init__(self) -> None:
        self.clock = QElapsedTimer()
        self.timer = QTimer()
        self.timer.setInterval(INTERVAL_MS)
        self.timer.timeout.connect(self._tick)
        self.stage = "starting"
        self.message = ""
        self.stalls: dict[str, list[float]] = {}
        self.worst: list[tuple[float, str]] = []  # (stall, the job's last message)
        self.last = 0.0

    def start(self) -> None:
        self.clock.start()
        self.last = self.clock.nsecsElapsed() / 1e6
        self.timer.start()

    def _tick(self) -> None:
        now = self.clock.nsecsElapsed() / 1e6
        stall = max(0.0, now - self.last - INTERVAL_MS)
        self.stalls.setdefault(self.stage, []).append(stall)
        self.worst = sorted([*self.worst, (stall, self.message)], reverse=True)[:5]
        self.last = now

    def on_progress(self, p: Progress) -> None:
        message = self.message = p.message
        if "loading" in message:
            self.stage = "loading models (once)"
        elif "encoding" in message or "embeddings" in message or "index" in message:
            self.stage = "encoding and indexing"
        elif "search" in message:
            self.stage = "searching"
        elif "compar" in message:
            self.stage = "comparing"
        else:
            self.stage = "reading data"


def _imports():
    """Phase 1: the heavy imports, in a worker, one by one."""
    import importlib

    names = ("torch", "transformers", "faiss")
    for i, name in enumerate(names):
        yield Progress(i, len(names), f"importing {name}")
        importlib.import_module(name)
    yield Progress(len(names), len(names), "imported")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--subset", type=int, default=6, help="XQuAD articles (5 passages each)")
    ap.add_argument("--dtype", choices=("fp32", "bf16"), default="bf16")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--query-lang", default="th")
    ap.add_argument("--tokenizers", type=Path, help="keep the built tokenizers here")
    args = ap.parse_args()
    models = Path(
        os.environ.get("CLIRLENS_TEST_MODELS", Path.home() / ".cache/clirlens-test-models")
    )
    xquad = Path(os.environ.get("CLIRLENS_XQUAD", "../shared/data/xquad"))
    if not (models / "multilingual-e5-small").is_dir() or not xquad.is_dir():
        print("needs the test models (CLIRLENS_TEST_MODELS) and XQuAD (CLIRLENS_XQUAD)")
        return 1
    config = WorkspaceConfig(
        str(xquad),
        models=(f"me5-small={models / 'multilingual-e5-small'}", str(models / "all-MiniLM-L6-v2")),
        query_langs=(args.query_lang,),
        doc_langs=("en",),
        subset=args.subset,
        dtype=args.dtype,
        batch_size=args.batch_size,
    )
    app = application()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["CLIRLENS_CACHE_DIR"] = tmp  # fresh: encoding really happens
        kept = Path(tmp) / "cache" / "tokenizers"
        had = args.tokenizers is not None and args.tokenizers.is_dir()
        if had:
            shutil.copytree(args.tokenizers, kept)
        print(f"tokenizers: {'from the tokenizer cache' if had else 'built from their files'}")
        controller = WorkspaceController(cache=Cache(Path(tmp) / "cache"))
        window = MainWindow(controller, Settings.at(Path(tmp) / "settings.ini"), persist=False)
        window.show()
        app.processEvents()
        probe = Probe()
        probe.start()
        probe.stage = "first imports (once)"
        done: list[object] = []
        controller.jobs.start("importing", _imports(), done.append)
        while not done or controller.jobs.busy:
            app.processEvents()
            time.sleep(0.002)
        controller.jobs.progressChanged.connect(probe.on_progress)
        probe.stage = "reading data"
        t0 = time.perf_counter()
        window.open_workspace(config)
        failure = wait_until_prepared(controller)
        elapsed = time.perf_counter() - t0
        probe.timer.stop()
        window.close()
        if args.tokenizers is not None and not had and kept.is_dir():
            shutil.copytree(kept, args.tokenizers)
    if failure is not None:
        print(f"preparation failed: {failure.message}")
        return 1
    c = controller.comparison
    print(
        f"prepared {c.task.name}: {len(c.task.corpus)} passages, {len(c.task.queries)} "
        f"queries, 2 models, {args.dtype}, in {elapsed:.1f} s"
    )
    print(f"{'stage':<24}{'ticks':>7}{'p99 ms':>9}{'max stall ms':>14}")
    for stage, stalls in probe.stalls.items():
        ordered = sorted(stalls)
        p99 = ordered[int(0.99 * (len(ordered) - 1))]
        print(f"{stage:<24}{len(stalls):>7}{p99:>9.1f}{max(stalls):>14.1f}")
    print("longest stalls, after the progress message:")
    for stall, message in probe.worst:
        print(f"  {stall:7.1f} ms  {message}")
    work = [s for stage, v in probe.stalls.items() if "once" not in stage for s in v]
    longest = max(work) if work else 0.0
    everything = max(s for v in probe.stalls.values() for s in v)
    verdict = "within" if longest < GOAL_MS else "OVER"
    print(
        f"longest stall while encoding/indexing/searching: {longest:.1f} ms "
        f"({verdict} the {GOAL_MS:.0f} ms goal); one-time imports and model loading "
        f"included: {everything:.1f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
