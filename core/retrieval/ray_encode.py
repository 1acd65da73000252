"""Passage encoding on a Ray cluster, into the same shards as local encoding.

``clirlens index --ray [ADDRESS]`` hands the shards a local run would encode to Ray Data:
a dataset of shard numbers goes through ``map_batches`` with an actor pool of
:class:`ShardEncoder` — each actor loads the model once and encodes whole shards, with the
same :class:`~clirlens.core.models.encoder.Encoder` code, batch size and precision as a
local run, so the embeddings are the ones a local run computes. The driver writes each
shard it receives into the partial cache entry
(:class:`~clirlens.core.retrieval.shards.PartialEntry`) by its number: a retried task (an
actor that died, an error Ray retries) writes the same rows again, never a second copy, and
the finished entry is the one a later local run finds warm.

Actors read the passages of a stored corpus from its SQLite file
(:class:`~clirlens.core.data.store.PassageStore`), so on a multi-machine cluster the cache
folder must be on storage every node sees (``--cache-dir``); a corpus held in memory (XQuAD)
travels with the shard numbers instead. Actors take a GPU each where the cluster has them.

Ray is optional (``pip install 'clirlens[ray]'``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from clirlens.core.errors import UserError
from clirlens.core.progress import Job
from clirlens.core.types import Passage, Progress

RAY_HINT = "install it with: pip install 'clirlens[ray]'"
RETRIES = 3  # attempts per shard inside an actor


@dataclass(frozen=True)
class RayOptions:
    """Where and how wide: ``address`` of a running cluster (``None``: start Ray on this
    machine), ``actors`` in the pool (default: one per GPU, else one per two CPUs)."""

    address: str | None = None
    actors: int | None = None


def ray_module() -> Any:
    try:
        import ray
        import ray.data
    except ImportError:
        raise UserError(f"--ray needs Ray, which is not installed: {RAY_HINT}") from None
    return ray


def connect(options: RayOptions) -> Any:
    """Ray, initialised (on this machine, or joined to ``options.address``)."""
    ray = ray_module()
    logging.getLogger("ray.data").setLevel(logging.WARNING)  # its per-dataset INFO lines
    if not ray.is_initialized():
        try:
            if options.address:
                ray.init(address=options.address, log_to_driver=False)
            else:
                ray.init(num_cpus=os.cpu_count(), log_to_driver=False)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise UserError(
                f"cannot reach the Ray cluster at {options.address or 'this machine'} "
                f"({first}): check the address (ray status on the head node) or drop --ray"
            ) from None
    return ray


class ShardEncoder:
    """A Ray Data actor: one model load, then whole shards (see the module notes)."""

    def __init__(self, spec, device, dtype, batch_size, packed, store, ranges) -> None:
        from clirlens.core.models.encoder import Encoder

        self.encoder = Encoder(
            spec, device=device, dtype=dtype, batch_size=batch_size, packed=packed
        )
        self.store = store
        self.ranges = ranges  # (start, stop) of every shard

    def encode(self, index: int, texts: Sequence[str] | None) -> np.ndarray:
        from clirlens.core.progress import run

        if texts is None:
            a, b = self.ranges[index]
            texts = [self.encoder.passage_text(p) for p in self.store[a:b]]
        from clirlens.core.memory import trim_heap

        vectors = run(self.encoder.encode(list(texts), "passage"))
        trim_heap()
        return vectors

    def _encode_retried(self, index: int, texts: Sequence[str] | None) -> np.ndarray:
        """A shard that raised is encoded again, up to :data:`RETRIES` times (an actor that
        dies is restarted by Ray and its task retried)."""
        for attempt in range(RETRIES):
            try:
                return self.encode(index, texts)
            except Exception:
                if attempt == RETRIES - 1:
                    raise
        raise AssertionError("unreachable")

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        shards = [int(i) for i in batch["shard"]]
        texts = batch.get("texts")
        out = [
            self._encode_retried(i, None if texts is None else list(texts[j]))
            for j, i in enumerate(shards)
        ]
        return {
            "shard": np.asarray(shards, dtype=np.int64),
            "rows": np.asarray([v.shape[0] for v in out], dtype=np.int64),
            "data": np.asarray([v.astype(np.float32).tobytes() for v in out], dtype=object),
        }


def encode_shards(
    partial, encoder, corpus: Sequence[Passage], options: RayOptions, actor: type = ShardEncoder
) -> Job[None]:
    """Encode ``partial``'s missing shards on Ray and write them into it (a generator:
    yields progress as shards arrive; closing it stops the dataset, and the shards written
    so far stay for the next run, local or not)."""
    ray = connect(options)
    todo = partial.missing()
    if not todo:
        return
    stored = getattr(corpus, "by_id", None) is not None
    rows: list[dict[str, Any]] = []
    for i in todo:
        row: dict[str, Any] = {"shard": i}
        if not stored:
            a, b = partial.ranges[i]
            row["texts"] = [encoder.passage_text(p) for p in corpus[a:b]]
        rows.append(row)
    gpus = int(ray.cluster_resources().get("GPU", 0))
    cpus = int(ray.cluster_resources().get("CPU", 1))
    actors = options.actors or (gpus or max(1, cpus // 2))
    actors = max(1, min(actors, len(todo)))
    per_actor = {"num_gpus": 1} if gpus else {"num_cpus": max(1, cpus // actors)}
    ray.data.DataContext.get_current().enable_progress_bars = False
    # Ray Data's actor pools restart dead actors and retry their tasks by default
    ds = ray.data.from_items(rows, override_num_blocks=len(rows)).map_batches(
        actor,
        batch_size=1,
        compute=ray.data.ActorPoolStrategy(size=actors),
        fn_constructor_kwargs={
            "spec": encoder.requested,
            "device": "cuda" if gpus else encoder.device_request,
            "dtype": encoder.dtype,
            "batch_size": encoder.batch_size,
            "packed": encoder.packed,
            "store": corpus if stored else None,
            "ranges": partial.ranges,
        },
        **per_actor,
    )
    n, done = partial.n, sum(b - a for i, (a, b) in enumerate(partial.ranges) if i in partial.done)
    where = options.address or "local Ray"
    yield Progress(done, n, f"encoding passages with {encoder.name} on {where} ({actors} actors)")
    batches = iter(ds.iter_batches(batch_size=None, batch_format="numpy"))
    while True:
        try:
            batch = next(batches)
        except StopIteration:
            break
        except (ray.exceptions.RayError, RuntimeError, ValueError) as exc:
            cause = getattr(exc, "cause", None) or exc
            first = next((x for x in str(cause).splitlines() if x.strip()), type(cause).__name__)
            raise UserError(
                f"a Ray task failed after {RETRIES} tries ({first.strip()[:160]}); the "
                f"{len(partial.done)} shards encoded so far are kept: run again to resume"
            ) from None
        for index, count, data in zip(batch["shard"], batch["rows"], batch["data"], strict=True):
            vectors = np.frombuffer(data, dtype=np.float32).reshape(int(count), -1)
            partial.write(int(index), vectors)
            a, b = partial.ranges[int(index)]
            done += b - a
            yield Progress(done, n, f"encoding passages with {encoder.name} on {where}")
    missing = partial.missing()
    if missing:
        raise UserError(
            f"Ray returned no embeddings for {len(missing)} shards (e.g. shard {missing[0]}): "
            "run the command again to encode only those"
        )
