"""Encoding on a local Ray instance (ray.init(num_cpus=2)): the embeddings equal local
encoding's exactly and leave the cache warm for a local run; a task that fails is retried
without duplicating shards; a run stopped half-way is resumed locally; without Ray the
option says how to get it."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from clirlens.core.errors import UserError
from clirlens.core.models.encoder import Encoder
from clirlens.core.models.spec import parse_model_arg
from clirlens.core.progress import run
from clirlens.core.retrieval.cache import Cache
from clirlens.core.retrieval.retriever import DenseRetriever
from clirlens.core.retrieval.shards import PartialEntry, encode_corpus

from ..tiny_models import make_tiny_bert
from .test_shards import META, _beir_folder, corpus

ray = pytest.importorskip("ray", reason="Ray is an optional extra: pip install 'clirlens[ray]'")
pytest.importorskip("ray.data")

from clirlens.core.retrieval.ray_encode import RayOptions, ShardEncoder, ray_module  # noqa: E402


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return make_tiny_bert(
        tmp_path_factory.mktemp("m") / "tiny",
        seed=11,
        sentence_transformers={"pooling": "mean", "normalize": True},
    )


def encoder(folder) -> Encoder:
    return Encoder(parse_model_arg(str(folder)), device="cpu", batch_size=16)


class FlakyEncoder(ShardEncoder):
    """Raises the first time it is asked for shard 2 (a marker file remembers it across
    retries, which may land on another actor)."""

    marker = ""
    mode = "raise"

    def encode(self, index, texts):
        import os

        if index == 2 and not os.path.exists(self.marker):
            open(self.marker, "w").close()
            if self.mode == "exit":
                os._exit(1)  # the actor dies: Ray restarts it and retries the task
            raise RuntimeError("a flaky node")
        return super().encode(index, texts)


def test_ray_embeddings_equal_local_ones_and_warm_the_local_cache(local_ray, tiny, tmp_path):
    docs = corpus(90)
    local = run(encode_corpus(encoder(tiny), docs, Cache(tmp_path / "a"), "k", META, shard=20))
    remote = run(
        encode_corpus(
            encoder(tiny), docs, Cache(tmp_path / "b"), "k", META, shard=20, ray=RayOptions()
        )
    )
    np.testing.assert_array_equal(remote, local)
    # the retriever's own entry: a later local run finds it warm and loads no model
    r = DenseRetriever(encoder(tiny), cache=Cache(tmp_path / "c"))
    r.ray = RayOptions(actors=2)
    run(r.prepare(docs))
    warm = DenseRetriever(encoder(tiny), cache=Cache(tmp_path / "c"))
    run(warm.prepare(docs))
    assert warm.cache.events[0].startswith("hit:") and warm.encoder._loaded is None
    np.testing.assert_array_equal(warm.passage_vectors, r.passage_vectors)


@pytest.mark.parametrize("mode", ["raise", "exit"])
def test_a_failed_task_is_retried_without_duplicating_shards(local_ray, tiny, tmp_path, mode):
    import ray.cloudpickle

    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    FlakyEncoder.marker = str(tmp_path / "failed-once")
    FlakyEncoder.mode = mode
    docs = corpus(100)
    enc = encoder(tiny)
    partial = PartialEntry(Cache(tmp_path / "b"), "k", META, 100, 20)
    writes: list[int] = []
    real_write = partial.write
    partial.write = lambda i, v: (writes.append(i), real_write(i, v))[1]
    from clirlens.core.retrieval.ray_encode import encode_shards

    run(encode_shards(partial, enc, docs, RayOptions(actors=2), actor=FlakyEncoder))
    assert (tmp_path / "failed-once").exists()  # the failure happened, and was retried
    assert sorted(writes) == [0, 1, 2, 3, 4]  # each shard written once
    local = run(encode_corpus(enc, docs, Cache(tmp_path / "a"), "k", META, shard=20))
    np.testing.assert_array_equal(partial.finish(), local)


def test_a_stopped_ray_run_resumes_locally(local_ray, tiny, tmp_path):
    docs = corpus(100)
    enc = encoder(tiny)
    job = encode_corpus(enc, docs, Cache(tmp_path), "k", META, shard=20, ray=RayOptions(actors=1))
    for p in job:
        if p.done >= 20 and "on local Ray" in p.message and p.done < 100:
            break
    job.close()
    left = PartialEntry(Cache(tmp_path), "k", META, 100, 20)
    assert 1 <= len(left.done) < 5
    messages = []
    resumed = run(encode_corpus(enc, docs, Cache(tmp_path), "k", META, shard=20), messages.append)
    assert "resuming" in messages[0].message
    clean = run(encode_corpus(enc, docs, Cache(tmp_path / "b"), "k", META, shard=20))
    np.testing.assert_array_equal(resumed, clean)


def test_without_ray_the_option_says_how_to_get_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(UserError, match=r"pip install 'clirlens\[ray\]'"):
        ray_module()


def test_index_ray_on_the_command_line_leaves_eval_warm(local_ray, tiny, tmp_path, capsys):
    from clirlens.core.cli.main import main

    folder = _beir_folder(tmp_path, corpus(60))
    cache = str(tmp_path / "cache")
    common = ["--beir", str(folder), "--model", str(tiny), "--cache-dir", cache, "-q"]
    assert main(["index", *common, "--ray", "--ray-actors", "1"]) == 0
    assert "und corpus ready (60 passages, flat index)" in capsys.readouterr().err
    # the cache the Ray run filled is the one a local retriever reads: nothing to encode
    from clirlens.core.data.beir import load_beir

    r = DenseRetriever(encoder(tiny), cache=Cache(cache))
    run(r.prepare(load_beir(folder).corpus))
    assert r.cache.events[0].startswith("hit:") and r.encoder._loaded is None
    assert main(["index", *common, "--ray-actors", "0", "--ray"]) == 2
    assert (
        capsys.readouterr()
        .err.strip()
        .splitlines()[-1]
        .endswith("--ray-actors must be at least 1, got 0")
    )
