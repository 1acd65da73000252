"""A tokenizer loaded from the cache is the tokenizer built from its files; a changed file,
a damaged or a planted cache entry builds it from the files again."""

from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path

import pytest
from transformers import AutoTokenizer

from clirlens.core.models import loading
from clirlens.core.models.spec import parse_model_arg
from clirlens.core.models.tokcache import cached_tokenizer


def _texts(xquad_dir: Path) -> list[str]:
    out: list[str] = []
    for lang in ("th", "hi", "ar", "el", "en", "zh"):
        data = json.loads((xquad_dir / f"xquad.{lang}.json").read_text())
        for article in data["data"][:3]:
            for para in article["paragraphs"][:4]:
                out.append(para["context"])
                out.extend(qa["question"] for qa in para["qas"][:3])
    return out


class _Counted:
    def __init__(self, path: Path) -> None:
        self.path, self.calls = path, 0

    def __call__(self):
        self.calls += 1
        return AutoTokenizer.from_pretrained(self.path)


@pytest.fixture()
def me5_copy(me5_dir: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "model"
    shutil.copytree(me5_dir, copy)
    return copy


def test_cached_tokenizer_equals_the_built_one(me5_copy, xquad_dir, tmp_path):
    texts = _texts(xquad_dir)
    folder = tmp_path / "tokenizers"
    build = _Counted(me5_copy)
    built = cached_tokenizer(me5_copy, folder, build)
    cached = cached_tokenizer(me5_copy, folder, build)
    assert build.calls == 1 and cached is not built
    assert type(cached) is type(built)
    kw = {"truncation": True, "max_length": 128, "return_offsets_mapping": True}
    a, b = built(texts, **kw), cached(texts, **kw)
    assert a["input_ids"] == b["input_ids"] and a["offset_mapping"] == b["offset_mapping"]
    assert cached.pad_token_id == built.pad_token_id
    assert cached.convert_ids_to_tokens(b["input_ids"][0]) == built.convert_ids_to_tokens(
        a["input_ids"][0]
    )
    built.save_pretrained(tmp_path / "saved-built")
    cached.save_pretrained(tmp_path / "saved-cached")
    names = sorted(p.name for p in (tmp_path / "saved-built").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "saved-cached").iterdir())
    for name in names:
        assert (tmp_path / "saved-built" / name).read_bytes() == (
            tmp_path / "saved-cached" / name
        ).read_bytes(), name


def test_a_changed_tokenizer_file_builds_again(me5_copy, tmp_path):
    folder = tmp_path / "tokenizers"
    build = _Counted(me5_copy)
    cached_tokenizer(me5_copy, folder, build)
    config = me5_copy / "tokenizer_config.json"
    data = json.loads(config.read_text())
    data["model_max_length"] = 77
    config.write_text(json.dumps(data))
    tok = cached_tokenizer(me5_copy, folder, build)
    assert build.calls == 2 and tok.model_max_length == 77
    assert len(list(folder.glob("*.pickle"))) == 2


def test_damaged_and_planted_entries_are_not_used(me5_copy, tmp_path):
    folder = tmp_path / "tokenizers"
    build = _Counted(me5_copy)
    cached_tokenizer(me5_copy, folder, build)
    (entry,) = folder.glob("*.pickle")

    entry.write_bytes(entry.read_bytes()[:1000])  # damaged
    assert cached_tokenizer(me5_copy, folder, build).pad_token_id == 1
    assert build.calls == 2

    marker = tmp_path / "ran"

    class Planted:
        def __reduce__(self):
            return (Path.touch, (marker,))

    entry.write_bytes(pickle.dumps(Planted()))  # would run code if unpickled as it is
    tok = cached_tokenizer(me5_copy, folder, build)
    assert not marker.exists() and build.calls == 3 and tok.pad_token_id == 1
    assert cached_tokenizer(me5_copy, folder, build) is not None and build.calls == 3


def test_loading_keeps_the_tokenizer_under_the_cache_folder(me5_copy, tmp_path):
    memo = tmp_path / "cache"
    first = loading.load_copy(parse_model_arg(str(me5_copy)), "cpu", memo_dir=memo)
    assert len(list((memo / "tokenizers").glob("*.pickle"))) == 1
    again = loading.load_copy(parse_model_arg(str(me5_copy)), "cpu", memo_dir=memo)
    assert again.tokenizer is not first.tokenizer
    text = "ประเทศไทยมีจังหวัดกี่จังหวัด"
    assert again.tokenizer(text)["input_ids"] == first.tokenizer(text)["input_ids"]


def test_models_with_the_same_tokenizer_files_share_one_tokenizer(me5_copy, tmp_path):
    """Two folders, one tokenizer: loaded once; a private copy (training) and another
    letter case are their own objects; both encoders tokenise as before, from threads too."""
    import threading

    from clirlens.core.models.encoder import Encoder

    other = tmp_path / "other"
    shutil.copytree(me5_copy, other)
    memo = tmp_path / "cache"
    a = loading.load(parse_model_arg(str(me5_copy)), "cpu", memo_dir=memo)
    b = loading.load(parse_model_arg(str(other)), "cpu", memo_dir=memo)
    assert a.model is not b.model and a.tokenizer is b.tokenizer
    private = loading.load_copy(parse_model_arg(str(other)), "cpu", memo_dir=memo)
    assert private.tokenizer is not a.tokenizer
    cased = parse_model_arg(str(other)).with_conventions("set by hand", lowercase=False)
    assert loading.load_copy(cased, "cpu", memo_dir=memo).tokenizer is not a.tokenizer

    texts = [f"ข้อความที่ {i} และ a passage of {i} words " * (1 + i % 7) for i in range(400)]
    short = Encoder(
        parse_model_arg(str(me5_copy)).with_conventions("set by hand", max_length=16), memo_dir=memo
    )
    long = Encoder(
        parse_model_arg(str(other)).with_conventions("set by hand", max_length=128), memo_dir=memo
    )
    alone = {"short": short._tokenize(texts), "long": long._tokenize(texts)}
    got: dict[str, list] = {}
    errors: list[BaseException] = []

    def run(name, enc):
        try:
            got[name] = [enc._tokenize(texts) for _ in range(5)][-1]
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=x) for x in (("short", short), ("long", long))]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert not errors
    for name in alone:
        assert [x.tolist() for x in got[name]] == [x.tolist() for x in alone[name]], name
    assert max(len(x) for x in alone["short"]) == 16 < max(len(x) for x in alone["long"])
