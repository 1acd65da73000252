"""Bounded memory: a workspace on a BEIR corpus of 200,000 passages (200 MB of text) opens,
encodes, indexes and searches it while its resident memory grows by less than a fixed
budget — far less than the passages' texts alone, which the code before the passage store
held in memory (with every passage's token ids) at once. Measured in a subprocess, from
its resident memory after the model loaded to its peak."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import textwrap

import pytest

from ..tiny_models import WORDS, make_tiny_bert

N = 200_000
BUDGET_MB = 150  # the texts alone are 200 MB as Python strings, more as Passage objects

CHILD = textwrap.dedent(
    """
    import json, resource, sys
    from clirlens.core.progress import run
    from clirlens.core.retrieval.cache import Cache
    from clirlens.core.workspace.config import WorkspaceConfig
    from clirlens.core.workspace.workspace import Workspace

    def rss_mb():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * 4096 / 2**20

    folder, model, cache = sys.argv[1:4]
    config = WorkspaceConfig(kind="beir", dataset=folder, models=(model,), device="cpu",
                             batch_size=256, k=10)
    ws = Workspace(config, cache=Cache(cache), min_models=1)
    run(ws.encoder(0, "und").encode(["the cat sat"] * 300, "passage"))  # model loaded, warm
    base = rss_mb()
    comparison = run(ws.prepare())
    view = comparison.view(comparison.task.queries[0].id)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"base": base, "peak": peak, "n": len(comparison.task.corpus),
                      "shown": len(view.columns[0].passages) if hasattr(view, "columns") else 0}))
    """
)


@pytest.fixture(scope="module")
def big_corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("big")
    (folder / "qrels").mkdir()
    rng = random.Random(0)
    words = [w for w in WORDS if not w.startswith("#")]
    with (folder / "corpus.jsonl").open("w") as out:
        for i in range(N):
            text = " ".join(rng.choices(words, k=220))[:1000]
            out.write(json.dumps({"_id": f"d{i}", "text": text}) + "\n")
    with (folder / "queries.jsonl").open("w") as out:
        for i in range(50):
            out.write(json.dumps({"_id": f"q{i}", "text": " ".join(rng.choices(words, k=5))}))
            out.write("\n")
    (folder / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\n" + "".join(f"q{i}\td{i * 997}\t1\n" for i in range(50))
    )
    return folder


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/statm")
def test_a_big_corpus_is_prepared_within_a_fixed_memory_budget(big_corpus, tmp_path):
    model = make_tiny_bert(
        tmp_path / "tiny", seed=3, sentence_transformers={"pooling": "mean", "normalize": True}
    )
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(big_corpus), str(model), str(tmp_path / "cache")],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        timeout=900,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["n"] == N
    assert got["peak"] - got["base"] < BUDGET_MB, got
