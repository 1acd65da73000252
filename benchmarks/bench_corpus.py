"""Corpora at scale: peak memory and time of opening, encoding, indexing and searching a
synthetic BEIR corpus with two tiny models, at 100k and 1M passages, against the code
before the streaming pipeline (``BASELINE``, run from a ``git archive`` of that commit).

Every measurement is its own process (peak RSS is the process' ``ru_maxrss``), through
the workspace path the application and ``clirlens eval`` share (``Workspace.prepare`` of
the one direction: read the corpus, encode it with both models, build the indexes, search
every query, compare). Reported per size and code:

* peak RSS; seconds from the start of ``prepare`` until the corpus is read (into the
  passage store, or into memory before it; since the first model encodes a new corpus while
  it is read, the store is ready when that model's embeddings are) and until the first
  encoded batch; the whole cold preparation;
* the first batch's floor: loading one model in a fresh process and encoding one batch,
  with no corpus at all (what a first batch costs that no corpus pipeline can save), with
  its tokenizer built from the files and then from the tokenizer cache, and how much of it
  is importing torch and transformers; the first batch of the largest corpus in a fresh
  process with the models used before (their tokenizers cached) but the corpus not read;
  and with the models already loaded (a second workspace opened in the application);
* reopening the prepared workspace (a new process, warm cache): seconds until the first
  query's comparison can be shown;
* tokenizer throughput: the pipeline's tokenisation of shards against transformers' fast
  tokenizer called on the same texts in batches of 32 (what a padded encoder does).

The corpus: passages of 2–6 sentences drawn at random from every XQuAD language's
paragraphs (seeded), 1,000 queries (XQuAD questions) each judged relevant to one passage.
The models: two 2-layer, 64-dimensional XLM-R encoders with multilingual-e5-small's
tokenizer and random weights (seeds 1 and 2) — the cost of the pipeline, not of a network.

Run: python benchmarks/bench_corpus.py [--sizes 100000,1000000] [--no-baseline]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import HERE, test_model, xquad_dir

BASELINE = "f908788"  # the last commit before the streaming corpus pipeline
N_QUERIES = 1000


def make_corpus(folder: Path, n: int, sentences: tuple[int, int] = (2, 6), seed: int = 0) -> None:
    """A BEIR folder of ``n`` synthetic passages of ``sentences`` sentences (module notes)."""
    if (folder / "qrels" / "test.tsv").is_file():
        return
    pool, questions = [], []
    for f in sorted(xquad_dir().glob("xquad.*.json")):
        data = json.loads(f.read_text(encoding="utf-8"))["data"]
        for article in data:
            for para in article["paragraphs"]:
                pool += [s.strip() + "." for s in para["context"].split(".") if s.strip()]
                questions += [qa["question"] for qa in para["qas"]]
    rng = random.Random(seed)
    (folder / "qrels").mkdir(parents=True, exist_ok=True)
    with (folder / "corpus.jsonl").open("w", encoding="utf-8") as out:
        for i in range(n):
            text = " ".join(rng.choice(pool) for _ in range(rng.randint(*sentences)))
            out.write(json.dumps({"_id": f"p{i}", "title": "", "text": text}, ensure_ascii=False))
            out.write("\n")
    qs = rng.sample(questions, N_QUERIES)
    with (folder / "queries.jsonl").open("w", encoding="utf-8") as out:
        for i, q in enumerate(qs):
            out.write(json.dumps({"_id": f"q{i}", "text": q}, ensure_ascii=False) + "\n")
    with (folder / "qrels" / "test.tsv").open("w") as out:
        out.write("query-id\tcorpus-id\tscore\n")
        for i in range(N_QUERIES):
            out.write(f"q{i}\tp{rng.randrange(n)}\t1\n")


def make_model(folder: Path, seed: int) -> Path:
    """A 2-layer, 64-dimensional XLM-R with multilingual-e5-small's tokenizer."""
    if (folder / "config.json").is_file():
        return folder
    import torch
    from transformers import XLMRobertaConfig, XLMRobertaModel

    src = test_model("multilingual-e5-small")
    folder.mkdir(parents=True)
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy(src / name, folder / name)
    vocab = json.loads((src / "config.json").read_text())["vocab_size"]
    torch.manual_seed(seed)
    config = XLMRobertaConfig(
        vocab_size=vocab,
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=128,
        max_position_embeddings=514,
    )
    XLMRobertaModel(config).save_pretrained(folder)
    (folder / "modules.json").write_text(
        json.dumps(
            [
                {
                    "idx": 0,
                    "name": "0",
                    "path": "",
                    "type": "sentence_transformers.models.Transformer",
                },
                {
                    "idx": 1,
                    "name": "1",
                    "path": "1_Pooling",
                    "type": "sentence_transformers.models.Pooling",
                },
                {
                    "idx": 2,
                    "name": "2",
                    "path": "2_Normalize",
                    "type": "sentence_transformers.models.Normalize",
                },
            ]
        )
    )
    (folder / "1_Pooling").mkdir()
    (folder / "1_Pooling" / "config.json").write_text(
        json.dumps({"word_embedding_dimension": 64, "pooling_mode_mean_tokens": True})
    )
    (folder / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": 256}))
    return folder


# -- one measurement (a child process) ----------------------------------------------------------
def child(folder: str, models: list[str], cache: str) -> None:
    from clirlens.core.progress import run
    from clirlens.core.retrieval.cache import Cache
    from clirlens.core.workspace.config import WorkspaceConfig
    from clirlens.core.workspace.workspace import Workspace

    t0 = time.perf_counter()
    marks: dict[str, float] = {}

    def progress(p) -> None:
        if p.message.endswith("read") and "read" not in marks:
            marks["read"] = time.perf_counter() - t0  # the corpus store is ready
        if "encoding passages" in p.message and p.done > 0 and "first_batch" not in marks:
            marks["first_batch"] = time.perf_counter() - t0

    config = WorkspaceConfig(
        kind="beir", dataset=folder, models=tuple(models), k=100, device="cpu", batch_size=64
    )
    workspace = Workspace(config, cache=Cache(cache))
    comparison = run(workspace.prepare(), progress)
    first = comparison.task.queries[0].id
    view = comparison.view(first) if hasattr(comparison, "view") else None
    shown = time.perf_counter() - t0
    print(
        json.dumps(
            {
                "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "first_batch_s": marks.get("first_batch"),
                "read_s": marks.get("read"),
                "shown_s": shown,
                "queries": len(comparison.task.queries),
                "viewed": view is not None,
            }
        )
    )


def tokenizer_child(model: str, folder: str, n: int) -> None:
    """Tokens per second: the pipeline's shard tokenisation vs batches of 32."""
    from clirlens.core.data.beir import load_beir
    from clirlens.core.models.encoder import Encoder
    from clirlens.core.models.spec import parse_model_arg
    from clirlens.core.retrieval.shards import SHARD

    task = load_beir(folder)
    texts = [p.text for p in task.corpus[:n]]
    enc = Encoder(parse_model_arg(model), device="cpu")
    enc._tokenize(texts[:100])  # load
    tok = enc.loaded.tokenizer
    t = time.perf_counter()
    tokens = sum(
        len(x) for s in range(0, len(texts), SHARD) for x in enc._tokenize(texts[s : s + SHARD])
    )
    ours = time.perf_counter() - t
    t = time.perf_counter()
    for s in range(0, len(texts), 32):
        tok(texts[s : s + 32], truncation=True, max_length=enc.spec.max_length, padding=True)
    theirs = time.perf_counter() - t
    print(json.dumps({"ours": tokens / ours, "batches32": tokens / theirs, "tokens": tokens}))


def load_child(model: str, memo: str) -> None:
    """Seconds from a fresh process' first import to one encoded batch of 64 texts, and of
    that the imports of torch, transformers and the model's classes; ``memo`` is the cache
    folder (its ``tokenizers/`` holds the built tokenizer after the first run)."""
    t0 = time.perf_counter()
    import torch  # noqa: F401
    import transformers.models.xlm_roberta.modeling_xlm_roberta  # noqa: F401  (the tiny models)

    imports = time.perf_counter() - t0
    from clirlens.core.models.encoder import Encoder
    from clirlens.core.models.spec import parse_model_arg
    from clirlens.core.progress import run

    enc = Encoder(parse_model_arg(model), device="cpu", batch_size=64, memo_dir=Path(memo))
    run(enc.encode(["a first batch of passages"] * 64, "passage"))
    print(json.dumps({"load_s": time.perf_counter() - t0, "imports_s": imports}))


def first_batch_child(folder: str, models: list[str], cache: str, mode: str) -> None:
    """Seconds from ``prepare`` to the first encoded batch of a corpus not read before; the
    reading is cancelled after that batch. ``mode``: ``fresh``, a fresh process (``cache``
    holds only what earlier runs of the models left: the weight hashes and the built
    tokenizers); ``imported``, torch and transformers' model classes imported first, as in
    the application once it has loaded any model (the models themselves are not loaded);
    ``loaded``, the models loaded first (a second workspace opened in the application)."""
    if mode == "imported":
        import torch  # noqa: F401
        import transformers.models.xlm_roberta.modeling_xlm_roberta  # noqa: F401
    from clirlens.core.retrieval.cache import Cache
    from clirlens.core.workspace.config import WorkspaceConfig
    from clirlens.core.workspace.workspace import Workspace

    config = WorkspaceConfig(
        kind="beir", dataset=folder, models=tuple(models), k=100, device="cpu", batch_size=64
    )
    workspace = Workspace(config, cache=Cache(cache))
    if mode == "loaded":
        for i in range(len(models)):
            encoder = workspace.encoder(i, workspace.doc_langs[0])
            for _ in encoder.encode(["a first batch"], "passage"):  # loads it
                pass
    t0 = time.perf_counter()
    job = workspace.prepare()
    for p in job:
        if "encoding passages" in p.message and p.done > 0:
            break
    first = time.perf_counter() - t0
    job.close()
    print(json.dumps({"first_batch_s": first}))


_FIRST = {"--first": "fresh", "--imported-first": "imported", "--warm-first": "loaded"}


def measure(code: Path, args: list[str], env_extra: dict | None = None) -> dict:
    env = {**os.environ, "PYTHONPATH": str(code), **(env_extra or {})}
    out = subprocess.run(
        [sys.executable, __file__, *args], env=env, capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        return {"error": (out.stderr.strip().splitlines() or ["?"])[-1]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def package(root: Path, source: Path) -> Path:
    """A folder importable as ``clirlens`` for the tree at ``source``."""
    pkg = root / "clirlens"
    pkg.mkdir(parents=True, exist_ok=True)
    for part in ("core", "storage", "gui", "assets"):
        if not (pkg / part).exists():
            (pkg / part).symlink_to(source / part)
    return root


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="100000,1000000")
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("--work", default=None, help="keep corpora and models here")
    ap.add_argument("--sentences", default="2,6", help="sentences per passage, LO,HI (default 2,6)")
    args = ap.parse_args()
    work = Path(args.work or tempfile.mkdtemp(prefix="clirlens-bench-corpus-"))
    models = [str(make_model(work / f"tiny-{s}", s)) for s in (1, 2)]
    now = package(work / "now", HERE.parent)
    codes = {"now": now}
    if not args.no_baseline:
        base_src = work / f"src-{BASELINE}"
        if not base_src.exists():
            base_src.mkdir()
            archive = subprocess.run(
                ["git", "-C", str(HERE.parent), "archive", BASELINE],
                capture_output=True,
                check=True,
            ).stdout
            subprocess.run(["tar", "-x", "-C", str(base_src)], input=archive, check=True)
        codes["today"] = package(work / "base", base_src)
    sizes = [int(s) for s in args.sizes.split(",")]
    lo, hi = (int(x) for x in args.sentences.split(","))
    rows = []
    for n in sizes:
        folder = work / f"corpus-{n}-{lo}-{hi}"
        t = time.perf_counter()
        make_corpus(folder, n, (lo, hi))
        mb = (folder / "corpus.jsonl").stat().st_size / 1e6
        print(
            f"corpus {n:,} passages of {lo}-{hi} sentences, {mb:.0f} MB "
            f"({time.perf_counter() - t:.0f} s to write)"
        )
        for name, code in codes.items():
            if name == "today" and n > 200_000:
                rows.append((n, name, {"error": "not run: grows past this machine's 24 GB"}))
                continue
            cache = work / f"cache-{name}-{n}-{lo}-{hi}"
            shutil.rmtree(cache, ignore_errors=True)
            cold = measure(code, ["--child", str(folder), str(cache), *models])
            warm = measure(code, ["--child", str(folder), str(cache), *models])
            rows.append((n, name, {"cold": cold, "warm": warm}))
            print(n, name, json.dumps(rows[-1][2]), flush=True)
    corpus0 = str(work / f"corpus-{sizes[0]}-{lo}-{hi}")
    tok = measure(now, ["--tokenizer", models[0], corpus0, "50000"])
    memo = Path(tempfile.mkdtemp(prefix="clirlens-bench-memo-"))
    load = measure(now, ["--load", models[0], str(memo)])  # the tokenizer built from its files
    load_again = measure(now, ["--load", models[0], str(memo)])  # ... and from the cache
    shutil.rmtree(memo, ignore_errors=True)
    largest = work / f"corpus-{sizes[-1]}-{lo}-{hi}"
    scratch = Path(tempfile.mkdtemp(prefix="clirlens-bench-first-"))
    warm_first = measure(now, ["--warm-first", str(largest), str(scratch), *models])
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir()  # what the cold run of the largest corpus left of the models, no corpus
    used = work / f"cache-now-{sizes[-1]}-{lo}-{hi}"
    if (used / "tokenizers").is_dir():
        shutil.copytree(used / "tokenizers", scratch / "tokenizers")
    if (used / "weight-hashes.json").is_file():
        shutil.copy(used / "weight-hashes.json", scratch)
    fresh_first = measure(now, ["--first", str(largest), str(scratch), *models])
    if (scratch / "corpora").exists():  # the store the cancelled reading began
        shutil.rmtree(scratch / "corpora")
        shutil.rmtree(scratch / "embeddings", ignore_errors=True)
    imported_first = measure(now, ["--imported-first", str(largest), str(scratch), *models])
    shutil.rmtree(scratch, ignore_errors=True)
    print()
    print(
        f"{'passages':>10} {'code':>6} {'peak RSS':>10} {'store':>8} {'1st batch':>10} "
        f"{'cold':>9} {'reopen→1st query':>17}"
    )
    for n, name, r in rows:
        if "error" in r:
            print(f"{n:>10,} {name:>6}  {r['error']}")
            continue
        c, w = r["cold"], r["warm"]
        if "error" in c or "error" in w:
            print(f"{n:>10,} {name:>6}  {c.get('error') or w.get('error')}")
            continue
        print(
            f"{n:>10,} {name:>6} {c['rss_mb'] / 1024:>8.2f} GB {c.get('read_s') or 0:>6.1f} s "
            f"{c['first_batch_s']:>8.1f} s "
            f"{c['shown_s']:>7.0f} s {w['shown_s']:>15.1f} s (warm peak {w['rss_mb'] / 1024:.2f} GB)"
        )
    if "error" not in load and "error" not in load_again:
        print(
            f"\nfirst batch's floor: a fresh process loads one model and encodes one batch, "
            f"no corpus, in {load['load_s']:.1f} s with the tokenizer built from its files, "
            f"{load_again['load_s']:.1f} s with it from the tokenizer cache "
            f"({load['load_s'] / load_again['load_s']:.2f}x); of that, importing torch, "
            f"transformers and the model's classes takes {load_again['imports_s']:.1f} s"
        )
    if "error" not in fresh_first:
        print(
            f"first batch of the {sizes[-1]:,}-passage corpus in a fresh process, the models "
            f"used before (tokenizers cached), the corpus not: "
            f"{fresh_first['first_batch_s']:.2f} s"
        )
    if "error" not in imported_first:
        print(
            f"... and with torch and transformers already imported (the application after "
            f"its first model), the models not loaded: {imported_first['first_batch_s']:.2f} s"
        )
    if "error" not in warm_first:
        print(
            f"first batch of the {sizes[-1]:,}-passage corpus with the models already loaded "
            f"(a second workspace in the application): {warm_first['first_batch_s']:.2f} s"
        )
    if "error" not in tok:
        print(
            f"\ntokenizer: pipeline shards {tok['ours'] / 1e3:.0f}k tokens/s, fast tokenizer in "
            f"batches of 32 {tok['batches32'] / 1e3:.0f}k tokens/s "
            f"({tok['ours'] / tok['batches32']:.2f}x), {tok['tokens']:,} tokens"
        )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[4:], sys.argv[3])
    elif len(sys.argv) > 1 and sys.argv[1] in _FIRST:
        first_batch_child(sys.argv[2], sys.argv[4:], sys.argv[3], _FIRST[sys.argv[1]])
    elif len(sys.argv) > 1 and sys.argv[1] == "--load":
        load_child(sys.argv[2], sys.argv[3])
    elif len(sys.argv) > 1 and sys.argv[1] == "--tokenizer":
        child_args = sys.argv[2:]
        tokenizer_child(child_args[0], child_args[1], int(child_args[2]))
    else:
        main()
