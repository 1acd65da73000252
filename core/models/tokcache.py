"""A model's built tokenizer kept on disk, so a model used before loads its tokenizer faster.

transformers 5 builds a SentencePiece tokenizer such as XLM-R's anew at every load: it
parses ``tokenizer.json`` (250,000 pieces with their scores) in Python, builds the Rust
tokenizer from the same file, and the tokenizer class' ``__init__`` builds a Unigram model
from the vocabulary list once more. The built object, pickled, loads without the first and
the last of those steps (README, "Corpora at scale", for the measured times).

* **Key.** The pickle is found by the model folder's path, the content (sha256) of every
  file in it except the weights, and the versions of transformers and tokenizers: an edited
  tokenizer file, a new snapshot or an upgrade builds the tokenizer again from its files.
* **Safety.** The file is read with an unpickler that admits only tokenizer classes
  (transformers' tokenizer base classes and their subclasses, the ``tokenizers`` package's
  types) and a few containers, so a file planted in the cache folder cannot name a function
  to run. Anything else, or a damaged file, is ignored: the tokenizer is built from its
  files and the cache entry written again.
* **One copy per process.** Models fine-tuned from one base (two XLM-R retrievers, a
  teacher and the student distilled from it) ship the same tokenizer files. A tokenizer
  whose files have the same content as one already loaded (and whose letter case is pinned
  the same way) is that tokenizer: an XLM-R tokenizer holds a few hundred MB, most of it
  the Rust Unigram model's trie. Callers that change it take a private copy
  (``share=False``); callers that run it from several threads hold :func:`tokenizer_lock`,
  since a fast tokenizer's call sets its truncation on the shared Rust object.
* **The same tokenizer.** Pickling keeps the object's whole state (the Rust tokenizer is
  serialised by the ``tokenizers`` package itself), so ids, offsets, special tokens and
  ``save_pretrained`` are those of the tokenizer built from the files
  (tests/core/models/test_tokcache.py).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import os
import pickle
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

_WEIGHTS = (".safetensors", ".bin", ".pt", ".pth", ".onnx", ".h5", ".msgpack", ".ckpt", ".ot")
_BUILTINS = {"set", "frozenset", "slice", "complex", "bytearray", "object"}
_MAX_FILE = 256 << 20  # a tokenizer file is tens of MB at most; larger ones are not hashed


_SHARED: dict[tuple[str, Any], Any] = {}  # (files' content, letter case) -> loaded tokenizer
_SHARED_LOCK = threading.Lock()  # held while a shared tokenizer is loaded (seconds)
_LOCKS: dict[int, threading.Lock] = {}
_LOCKS_LOCK = threading.Lock()  # apart: a call must not wait for another model's loading


def cached_tokenizer(
    path: Path,
    folder: Path,
    build: Callable[[], Any],
    *,
    share: bool = False,
    variant: Any = None,
    prepare: Callable[[Any], None] | None = None,
) -> Any:
    """The tokenizer of the model folder ``path``: from ``folder``'s pickle when one was made
    for these files and library versions, else ``build()``, pickled into ``folder``; then
    ``prepare(tokenizer)`` (e.g. pinning its letter case). With ``share``, the tokenizer
    already loaded in this process from files of the same content and the same ``variant``
    (what ``prepare`` depends on), when there is one."""
    content = _content(path)
    if content is None:
        tokenizer = build()
        if prepare is not None:
            prepare(tokenizer)
        return tokenizer
    with _SHARED_LOCK if share else contextlib.nullcontext():
        if share and (content, variant) in _SHARED:
            return _SHARED[content, variant]
        entry = folder / f"{_key(path, content)}.pickle"
        tokenizer = _read(entry)
        if tokenizer is None:
            tokenizer = build()
            _write(entry, tokenizer)
        if prepare is not None:
            prepare(tokenizer)
        if share:
            _SHARED[content, variant] = tokenizer
        return tokenizer


def tokenizer_lock(tokenizer: Any) -> threading.Lock:
    """The lock to hold while calling ``tokenizer`` (it may be shared by several encoders)."""
    with _LOCKS_LOCK:
        return _LOCKS.setdefault(id(tokenizer), threading.Lock())


def _content(path: Path) -> str | None:
    """sha256 over the names and contents of the folder's files other than weights, and the
    versions of the libraries that build a tokenizer from them."""
    import tokenizers
    import transformers

    h = hashlib.sha256()
    h.update(json.dumps([transformers.__version__, tokenizers.__version__]).encode())
    try:
        files = sorted(f for f in path.iterdir() if f.is_file() and not f.name.endswith(_WEIGHTS))
        for f in files:
            if f.stat().st_size > _MAX_FILE:
                return None  # not a tokenizer's folder as we know them: no cache
            h.update(f.name.encode() + b"\0" + hashlib.sha256(f.read_bytes()).digest())
    except OSError:
        return None
    return h.hexdigest()


def _key(path: Path, content: str) -> str:
    """The pickle's name: the content and the folder (the tokenizer records its path)."""
    key = json.dumps([str(path), content, pickle.HIGHEST_PROTOCOL])
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def _read(entry: Path) -> Any | None:
    try:
        data = entry.read_bytes()
    except OSError:
        return None
    try:
        return _Unpickler(io.BytesIO(data)).load()
    except Exception as exc:  # damaged, foreign or from another build: build it again
        log.info("tokenizer cache %s not used (%s)", entry.name, type(exc).__name__)
        return None


def _write(entry: Path, tokenizer: Any) -> None:
    try:
        data = pickle.dumps(tokenizer, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:  # a tokenizer that does not pickle is built at every load
        log.info("tokenizer of %s not cached (%s)", entry.name, type(exc).__name__)
        return
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        tmp = entry.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, entry)
    except OSError:
        pass  # a cache that cannot be written only costs time


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        from transformers.tokenization_utils_base import PreTrainedTokenizerBase

        if module == "builtins" and name in _BUILTINS:
            return super().find_class(module, name)
        if (module, name) == ("collections", "OrderedDict"):
            return super().find_class(module, name)
        if module == "tokenizers" or module.startswith(("tokenizers.", "transformers.")):
            found = super().find_class(module, name)
            if isinstance(found, type) and (
                module.split(".")[0] == "tokenizers" or issubclass(found, PreTrainedTokenizerBase)
            ):
                return found
        raise pickle.UnpicklingError(f"{module}.{name} is not a tokenizer class")
