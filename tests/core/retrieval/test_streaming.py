"""Encoding a corpus while it is read into its store (core/retrieval/streaming.py): the same
embeddings as encoding after the reading, resumed after a Cancel, and never at the cost of
the store."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from clirlens.core.data import store as store_module
from clirlens.core.data.beir import load_beir_job
from clirlens.core.errors import ModelError
from clirlens.core.hashing import fingerprint
from clirlens.core.progress import run
from clirlens.core.retrieval.cache import Cache
from clirlens.core.retrieval.shards import cached, encode_corpus, passage_meta
from clirlens.core.retrieval.streaming import WHILE, StreamEncoder
from clirlens.core.workspace.config import WorkspaceConfig
from clirlens.core.workspace.workspace import Workspace

from .test_shards import _beir_folder, corpus, encoder

N = 130
SHARD = 40


@pytest.fixture
def folder(tmp_path):
    return _beir_folder(tmp_path, corpus(N))


@pytest.fixture(autouse=True)
def small_blocks(monkeypatch):
    monkeypatch.setattr(store_module, "BLOCK", 25)  # several blocks per shard, as at scale


def read(folder, cache: Cache, feed, on_progress=None):
    job = load_beir_job(folder, store_dir=cache.root / "corpora", feed=feed)
    return run(job, on_progress)


def cancel_in_shard(folder, cache: Cache, enc, shard: int) -> None:
    """Read with encoding and Cancel while shard ``shard`` (from 1) is encoded."""
    feed = StreamEncoder(enc, cache, SHARD)
    job = load_beir_job(folder, store_dir=cache.root / "corpora", feed=feed)
    for p in job:
        if feed.encoded == shard - 1 and WHILE in p.message and "encoding" in p.message:
            break
    job.close()


def entry(cache: Cache, enc, task) -> np.ndarray | None:
    """The corpus' embedding cache entry, as a retriever would look it up."""
    meta = passage_meta(enc.fingerprint(), task.corpus.fingerprint, N, SHARD)
    return cached(cache, fingerprint(meta), meta, N)


def test_the_embeddings_encoded_while_reading_are_those_encoded_after(tiny, folder, tmp_path):
    enc = encoder(tiny)
    cache = Cache(tmp_path / "streamed")
    stores = tmp_path / "streamed" / "corpora"
    seen: list[str] = []

    def progress(p):
        if "while reading" in p.message and len(seen) < 2:
            # the first shard is encoded before the corpus is all read: no store yet
            assert not list(stores.glob("*.sqlite"))
            seen.append(p.message)

    stream = StreamEncoder(enc, cache, shard=SHARD)
    task = read(folder, cache, stream, progress)
    assert seen == [
        "tiny: loading the model to encode while reading the corpus",
        "encoding passages with tiny while reading the corpus",
    ]
    assert stream.stopped is None and stream.encoded == 4
    streamed = entry(cache, enc, task)
    assert streamed is not None and not list((cache.root / "embeddings").glob(".stream-*"))
    # the reading after: a store already there, encoded shard by shard from it
    other = Cache(tmp_path / "after")
    later = read(folder, other, None)
    meta = passage_meta(enc.fingerprint(), later.corpus.fingerprint, N, SHARD)
    after = run(encode_corpus(enc, later.corpus, other, stream.key, meta, shard=SHARD))
    np.testing.assert_array_equal(streamed, after)


def test_a_cancelled_reading_resumes_at_the_first_shard_it_had_not_encoded(tiny, folder, tmp_path):
    enc = encoder(tiny)
    cache = Cache(tmp_path / "c")
    cancel_in_shard(folder, cache, enc, 3)
    assert not list((cache.root / "corpora").glob("*.sqlite"))  # the store is not half there
    stream = StreamEncoder(enc, cache, shard=SHARD)
    task = read(folder, cache, stream)
    assert stream.encoded == 2  # shards 3 and 4; 1 and 2 were kept
    clean = Cache(tmp_path / "clean")
    read(folder, clean, StreamEncoder(enc, clean, shard=SHARD))
    np.testing.assert_array_equal(entry(cache, enc, task), entry(clean, enc, task))


def test_a_changed_shard_is_encoded_again(tiny, folder, tmp_path):
    enc = encoder(tiny)
    cache = Cache(tmp_path / "c")
    cancel_in_shard(folder, cache, enc, 3)
    lines = (folder / "corpus.jsonl").read_text().splitlines()
    lines[45] = json.dumps({"_id": "d45", "text": "an edited passage in shard two"})
    (folder / "corpus.jsonl").write_text("\n".join(lines) + "\n")
    stream = StreamEncoder(enc, cache, shard=SHARD)
    task = read(folder, cache, stream)
    assert stream.encoded == 3  # shard 1 kept; 2 changed; 3 and 4 new
    vectors = entry(cache, enc, task)
    np.testing.assert_array_equal(vectors[45], run(enc.encode_passages([task.corpus[45]]))[0])


class _Broken:
    name = "broken"

    def fingerprint(self) -> str:
        return "broken"

    def passage_text(self, p):
        return p.text

    def encode(self, texts, role):
        raise ModelError("model 'broken': cannot load its weights")
        yield


def test_a_model_that_fails_while_reading_costs_nothing_of_the_store(folder, tmp_path):
    cache = Cache(tmp_path / "c")
    stream = StreamEncoder(_Broken(), cache, shard=SHARD)
    task = read(folder, cache, stream)
    assert stream.stopped == "model 'broken': cannot load its weights"
    assert len(task.corpus) == N and list((cache.root / "corpora").glob("*.sqlite"))


def test_a_workspace_read_and_encoded_at_once_ranks_as_one_encoded_after(tiny, folder, tmp_path):
    models = (str(tiny), str(tiny))
    config = WorkspaceConfig(kind="beir", dataset=str(folder), models=models, k=20)
    streamed = Workspace(config, cache=Cache(tmp_path / "a"))
    messages: list[str] = []
    _, runs = run(streamed.runs("und", "und"), lambda p: messages.append(p.message))
    assert any("while reading" in m for m in messages)
    # the first model's prepare found its embeddings cached: nothing encoded after reading
    first = [m for m in messages if m.startswith("[1/2]")]
    assert not any("encoding passages" in m for m in first)
    # the same corpus with its store built beforehand, without encoding while reading
    cache = Cache(tmp_path / "b")
    read(folder, cache, None)
    after = Workspace(config, cache=cache)
    messages = []
    _, runs_after = run(after.runs("und", "und"), lambda p: messages.append(p.message))
    assert not any("while reading" in m for m in messages)
    assert [r.rankings for r in runs] == [r.rankings for r in runs_after]


KILLED = textwrap.dedent(
    """
    import sys, time
    from clirlens.core.data import store
    from clirlens.core.data.beir import load_beir_job
    from clirlens.core.progress import run
    from clirlens.core.retrieval.cache import Cache
    from clirlens.core.retrieval.streaming import WHILE, StreamEncoder
    sys.path.insert(0, sys.argv[4])
    from tests.core.retrieval.test_shards import encoder
    store.BLOCK = 10
    cache = Cache(sys.argv[2])
    feed = StreamEncoder(encoder(sys.argv[1]), cache, shard=20)
    job = load_beir_job(sys.argv[3], store_dir=cache.root / "corpora", feed=feed)
    run(job, lambda p: time.sleep(0.2))
    """
)


def test_a_reading_killed_mid_encoding_resumes_to_the_uninterrupted_embeddings(
    tiny, folder, tmp_path
):
    cache = tmp_path / "cache"
    root = str(Path(__file__).resolve().parents[3])
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED, str(tiny), str(cache), str(folder), root],
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    deadline = time.monotonic() + 120
    done = 0
    while time.monotonic() < deadline and proc.poll() is None and done < 2:
        for manifest in (cache / "embeddings").glob(".stream-*/manifest.json"):
            with contextlib.suppress(OSError, ValueError):
                done = len(json.loads(manifest.read_text())["done"])
        time.sleep(0.01)
    assert proc.poll() is None, "the reading finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    stores = cache / "corpora"
    assert list(stores.glob(".*.tmp")) and not list(stores.glob("*.sqlite"))
    enc = encoder(tiny)
    stream = StreamEncoder(enc, Cache(cache), shard=20)
    task = read(folder, Cache(cache), stream)
    assert 0 < stream.encoded <= 7 - done  # 7 shards of 20; those recorded were kept
    assert not list(stores.glob(".*.tmp"))  # the killed reading's temporary store is gone
    clean = Cache(tmp_path / "clean")
    read(folder, clean, StreamEncoder(enc, clean, shard=20))
    meta = passage_meta(enc.fingerprint(), task.corpus.fingerprint, N, 20)
    resumed = cached(Cache(cache), fingerprint(meta), meta, N)
    np.testing.assert_array_equal(resumed, cached(clean, fingerprint(meta), meta, N))
