"""The passage store: what a BEIR folder holds, read lazily; built once per version of the
file, whole or not at all; its fingerprint is the in-memory corpus' one."""

from __future__ import annotations

import json
import logging
import os

import pytest

from clirlens.core.data.beir import load_beir, load_beir_job
from clirlens.core.data.store import (
    PassageStore,
    build_store,
    corpus_fingerprint,
    passage_ids,
    passage_map,
)
from clirlens.core.errors import DataError
from clirlens.core.hashing import fingerprint
from clirlens.core.progress import run
from clirlens.core.types import Passage, Progress


def _folder(tmp_path, n=30, dup=False):
    folder = tmp_path / "beir"
    (folder / "qrels").mkdir(parents=True)
    lines = [
        {"_id": f"d{i}", "title": f"T{i}" if i % 3 else "", "text": f'ข้อความ {i} ☃ "q"'}
        for i in range(n)
    ]
    if dup:
        lines.append({"_id": "d4", "text": "again"})
    (folder / "corpus.jsonl").write_text(
        "\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n", encoding="utf-8"
    )
    (folder / "queries.jsonl").write_text('{"_id": "q1", "text": "one"}\n{"_id": 7, "text": "x"}\n')
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td3\t1\n7\td9\t2\n")
    return folder


def test_a_stored_corpus_reads_like_the_in_memory_one(tmp_path):
    folder = _folder(tmp_path)
    memory = load_beir(folder, query_lang="th")
    stored = run(load_beir_job(folder, query_lang="th", store_dir=tmp_path / "stores"))
    store = stored.corpus
    assert isinstance(store, PassageStore)
    assert stored == memory  # every field, the corpus passage by passage
    assert len(store) == 30 and store[0] == memory.corpus[0] and store[-1] == memory.corpus[-1]
    assert store[5:9] == memory.corpus[5:9] and store[28:40] == memory.corpus[28:]
    assert store[::10] == memory.corpus[::10]
    assert list(store) == list(memory.corpus)
    assert passage_ids(store) == [p.id for p in memory.corpus]
    by_id = passage_map(store)
    assert by_id["d7"] == memory.corpus[7] and "d7" in by_id and "nope" not in by_id
    assert stored.passage("d12") == memory.corpus[12]
    with pytest.raises(KeyError):
        by_id["nope"]
    with pytest.raises(IndexError):
        store[30]
    # the content hash is the one the retriever keys embeddings by, for both
    expected = fingerprint([(p.id, p.lang, p.title, p.text) for p in memory.corpus])
    assert store.fingerprint == corpus_fingerprint(memory.corpus) == expected


def test_the_store_is_built_once_per_version_of_the_file(tmp_path):
    folder = _folder(tmp_path)
    stores = tmp_path / "stores"
    first = run(load_beir_job(folder, store_dir=stores)).corpus
    messages = [p.message for p in load_beir_job_progress(folder, stores)]
    assert "corpus store opened" in messages
    assert list(stores.glob("*.sqlite")) == [first.path]
    # a changed corpus file is a new store
    corpus = folder / "corpus.jsonl"
    corpus.write_text(corpus.read_text(encoding="utf-8") + '{"_id": "new", "text": "n"}\n')
    os.utime(corpus, ns=(1, 1))
    again = run(load_beir_job(folder, store_dir=stores)).corpus
    assert again.path != first.path and len(again) == 31


def load_beir_job_progress(folder, stores):
    job = load_beir_job(folder, store_dir=stores)
    out = []
    while True:
        try:
            out.append(next(job))
        except StopIteration:
            return out


def test_a_duplicate_id_names_its_line_and_leaves_no_store(tmp_path):
    folder = _folder(tmp_path, dup=True)
    with pytest.raises(DataError, match=r"corpus\.jsonl:31: passage id 'd4' appears twice"):
        run(load_beir_job(folder, store_dir=tmp_path / "stores"))
    assert list((tmp_path / "stores").iterdir()) == []


def test_a_build_stopped_half_way_leaves_nothing(tmp_path):
    def items():
        yield Passage("a", "x", "en")
        yield Progress(1, 2, "reading")
        raise KeyboardInterrupt

    target = tmp_path / "s" / "c.sqlite"
    with pytest.raises(KeyboardInterrupt):
        run(build_store(target, items(), "en"))
    assert list(target.parent.iterdir()) == []
    job = build_store(target, iter([Passage("a", "x", "en"), Progress(1, 2, "r")]), "en")
    next(job)
    job.close()  # a Cancel at a yield
    assert list(target.parent.iterdir()) == []


def test_an_unwritable_store_folder_reads_into_memory(tmp_path, caplog):
    folder = _folder(tmp_path)
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with caplog.at_level(logging.WARNING):
        task = run(load_beir_job(folder, store_dir=blocker / "stores"))
    assert isinstance(task.corpus, tuple) and len(task.corpus) == 30
    assert "reading the corpus into memory" in caplog.text


def test_a_damaged_store_is_rebuilt(tmp_path):
    folder = _folder(tmp_path)
    stores = tmp_path / "stores"
    path = run(load_beir_job(folder, store_dir=stores)).corpus.path
    path.write_bytes(b"garbage" * 100)
    task = run(load_beir_job(folder, store_dir=stores))
    assert len(task.corpus) == 30 and task.corpus[3].id == "d3"
