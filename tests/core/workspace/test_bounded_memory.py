"""Bounded memory: a workspace on a BEIR corpus opens, encodes, indexes and searches it
with resident memory that does not grow with the corpus. Two subprocesses prepare the
corpora of 50,000 and 200,000 passages (1,000 characters each); from
each one's resident memory after the model loaded to its peak, the larger corpus may add
less than a fixed budget — far less than the 150 MB of text its extra passages hold, which
the code before the passage store kept in memory (with every passage's token ids) at
once. What a shard costs (its texts and the tokenizer's working memory) is the same at
both sizes and cancels out."""

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
SMALL = 50_000
BUDGET_MB = 60  # the extra 150,000 passages' texts alone are 150 MB as Python strings

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
    task, runs = run(ws.runs("und", "und"))
    top = runs[0].top(task.queries[0].id)
    shown = [task.passage(sp.passage_id).text for sp in top]  # what a view reads
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"base": base, "peak": peak, "n": len(task.corpus), "shown": len(shown)}))
    """
)


def _corpus(folder, n):
    (folder / "qrels").mkdir(parents=True)
    rng = random.Random(0)
    words = [w for w in WORDS if not w.startswith("#")]
    with (folder / "corpus.jsonl").open("w") as out:
        for i in range(n):
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
def test_a_big_corpus_is_prepared_within_a_fixed_memory_budget(tmp_path):
    model = make_tiny_bert(
        tmp_path / "tiny", seed=3, sentence_transformers={"pooling": "mean", "normalize": True}
    )
    growth = {}
    for n in (SMALL, N):
        folder = _corpus(tmp_path / f"corpus{n}", n)
        out = subprocess.run(
            [sys.executable, "-c", CHILD, str(folder), str(model), str(tmp_path / f"c{n}")],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
            timeout=900,
        )  # fmt: skip
        assert out.returncode == 0, out.stderr[-2000:]
        got = json.loads(out.stdout.strip().splitlines()[-1])
        assert got["n"] == n and got["shown"] == 10
        growth[n] = got["peak"] - got["base"]
    assert growth[N] - growth[SMALL] < BUDGET_MB, growth
