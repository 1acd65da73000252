"""What a retriever is: :class:`ModelSpec`, the presets of docs/architecture.md §3, and the
one resolution of a ``--model`` value into a spec, used by every path (command line, start
dialog, remembered folder, Hugging Face cache snapshot, hub id).

A model is named as one of

* a preset name: ``webfaq``, ``tydi``, ``me5-small``, ``bm25``;
* a preset bound to a local directory: ``me5-small=/models/e5`` (keeps the preset's pooling
  and prefixes, loads the weights from the directory);
* a local directory: a snapshot in a Hugging Face cache layout
  (``…/models--intfloat--multilingual-e5-small/snapshots/…``) is recognised as its hub id,
  and one that is a preset's model runs with the preset's conventions; any other folder
  reads its sentence-transformers files (:mod:`clirlens.core.models.st_files`);
* a Hugging Face hub id such as ``org/name`` (a preset's id runs as that preset; others read
  their sentence-transformers files);

optionally followed by conventions set by hand, ``;key=value`` each (values
percent-encoded, as the start dialog writes them), e.g. ``/models/x;pooling=cls;query_prefix=query%3A%20``.

**Asymmetric models.** ``;passages=M`` (``M`` a percent-encoded ``--model`` value) encodes
passages with another model: DPR's separate question and context encoders, or a distilled
query encoder with its teacher, whose cached passage embeddings and index are reused
unchanged. A folder written by ``clirlens distill`` names its teacher in
``clirlens_student.json`` and is paired with it without being told.

Every convention records where it came from (``ModelSpec.origins``): a preset, the model's
files, the user, or clirlens' default; ``core/models/notes.py`` says so in one line
when the conventions are guesses.
"""

from __future__ import annotations

import dataclasses
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from clirlens.core.errors import ModelError

Pooling = Literal["cls", "mean"]
Similarity = Literal["cosine", "ip"]
Role = Literal["query", "passage"]
CONVENTIONS: tuple[str, ...] = (
    "pooling",
    "similarity",
    "query_prefix",
    "passage_prefix",
    "max_length",
    "title_join",
    "lowercase",
)
DEFAULT = "default"  # the origin of a convention nothing said anything about


@dataclass(frozen=True)
class ModelSpec:
    """A retriever and the conventions that decide its correctness.

    ``similarity="cosine"`` means embeddings are L2-normalised and compared by inner
    product; ``"ip"`` means raw inner product (DPR-style). ``title_join`` is the string put
    between a passage's title and text (``None``: the title is not used). ``lowercase``
    pins the tokenizer's letter case when a tokenizer class is known to get it wrong
    (``None``: trust the tokenizer files).
    """

    name: str
    source: str
    kind: Literal["dense", "bm25", "run"] = "dense"
    revision: str | None = None
    pooling: Pooling = "mean"
    similarity: Similarity = "cosine"
    query_prefix: str = ""
    passage_prefix: str = ""
    max_length: int = 512
    title_join: str | None = None
    lowercase: bool | None = None
    # True when pooling/prefixes/max_length come from the preset and must not be
    # overridden by files found in the model directory.
    pinned: bool = False
    preset: str | None = None  # the preset whose conventions these are (None: no preset)
    # (convention, where its value came from): "preset me5-small", "model files
    # (1_Pooling/config.json)", "set by hand", or DEFAULT when missing here
    origins: tuple[tuple[str, str], ...] = ()
    # the passage side's model when it is not this one (module notes: asymmetric models)
    passages: ModelSpec | None = None

    @property
    def normalize(self) -> bool:
        return self.similarity == "cosine"

    def prefix(self, role: Role) -> str:
        return self.query_prefix if role == "query" else self.passage_prefix

    def conventions(self) -> dict[str, object]:
        """Everything but the label, the source and the origins: what changes embeddings."""
        d = dataclasses.asdict(self)
        for key in ("name", "source", "pinned", "preset", "origins", "passages"):
            d.pop(key)  # (the passage side has its own encoder and identity)
        return d

    @property
    def passage_spec(self) -> ModelSpec:
        """The model that encodes passages: :attr:`passages`, or this one."""
        return self.passages or self

    def with_source(self, source: str) -> ModelSpec:
        return dataclasses.replace(self, source=source)

    def origin(self, convention: str) -> str:
        return dict(self.origins).get(convention, DEFAULT)

    def with_conventions(self, origin: str, **values: object) -> ModelSpec:
        """``values`` set, each recorded as coming from ``origin``."""
        origins = {**dict(self.origins), **dict.fromkeys(values, origin)}
        return dataclasses.replace(self, **values, origins=tuple(origins.items()))

    def describe_conventions(self) -> list[tuple[str, object, str]]:
        """``(convention, value, where it came from)`` for each convention."""
        return [(key, getattr(self, key), self.origin(key)) for key in CONVENTIONS]

    def summary(self) -> str:
        """e.g. ``mean pooling, cosine, prefixes 'query: '/'passage: ', max 512 tokens``."""
        prefixes = (
            f"prefixes {self.query_prefix!r}/{self.passage_prefix!r}"
            if self.query_prefix or self.passage_prefix
            else "no prefixes"
        )
        title = "titles not used" if self.title_join is None else f"title+{self.title_join!r}+text"
        sim = "cosine" if self.similarity == "cosine" else "inner product"
        return f"{self.pooling} pooling, {sim}, {prefixes}, max {self.max_length} tokens, {title}"


_PRESETS: dict[str, ModelSpec] = {
    # XLM-R base fine-tuned on MS MARCO then WebFAQ (PaDaS-Lab). Pooling comes from its own
    # sentence-transformers config (mean expected), hence not pinned.
    "webfaq": ModelSpec(
        name="webfaq",
        source="PaDaS-Lab/xlm-roberta-base-msmarco-webfaq",
        pooling="mean",
        similarity="cosine",
        max_length=512,
    ),
    # Tied mDPR (mBERT), MS MARCO then Mr.TyDi all languages (castorini). Pyserini encodes
    # with CLS pooling, raw inner product, passages as title + " " + text, max length 256.
    # Its DPR tokenizer class lower-cases under transformers 5 unless corrected: pinned cased.
    "tydi": ModelSpec(
        name="tydi",
        source="castorini/mdpr-tied-pft-msmarco-ft-all",
        pooling="cls",
        similarity="ip",
        max_length=256,
        title_join=" ",
        lowercase=False,
        pinned=True,
    ),
    "me5-small": ModelSpec(
        name="me5-small",
        source="intfloat/multilingual-e5-small",
        pooling="mean",
        similarity="cosine",
        query_prefix="query: ",
        passage_prefix="passage: ",
        max_length=512,
        pinned=True,
    ),
    "bm25": ModelSpec(name="bm25", source="bm25s", kind="bm25", similarity="ip", pinned=True),
}
PRESETS: dict[str, ModelSpec] = {
    name: dataclasses.replace(
        spec, preset=name, origins=tuple((key, f"preset {name}") for key in CONVENTIONS)
    )
    for name, spec in _PRESETS.items()
}
_BY_SOURCE = {spec.source: name for name, spec in PRESETS.items() if spec.kind == "dense"}


def parse_model_arg(arg: str) -> ModelSpec:
    """Turn a ``--model`` value into a spec (module notes; no file is read beyond existence
    checks: conventions from a folder's own files are added when it is resolved)."""
    text, _, hand = arg.strip().partition(";")
    text = text.strip()
    if not text:
        raise ModelError(
            "empty --model value: give a preset ("
            + ", ".join(PRESETS)
            + "), a hub id, or a local directory"
        )
    spec = _parse_source(text, arg)
    return _set_by_hand(spec, hand, arg) if hand.strip() else spec


def _parse_source(text: str, arg: str) -> ModelSpec:
    if text.startswith(RUN_PREFIX):
        return run_spec(text[len(RUN_PREFIX) :], arg)
    if "=" in text:
        preset, _, location = text.partition("=")
        preset = preset.strip()
        if preset not in PRESETS:
            raise ModelError(
                f"unknown preset {preset!r} in --model {arg!r}; presets: " + ", ".join(PRESETS)
            )
        if PRESETS[preset].kind != "dense":
            raise ModelError(f"preset {preset!r} has no weights to load from {location!r}")
        path = Path(location).expanduser()
        if not path.is_dir():
            raise ModelError(f"model directory {location!r} (for preset {preset!r}) does not exist")
        return PRESETS[preset].with_source(str(path.resolve()))
    if text in PRESETS:
        return PRESETS[text]
    path = Path(text).expanduser()
    if path.is_dir():
        folder = str(path.resolve())
        preset = _BY_SOURCE.get(hub_id_of(path) or "")
        if preset is not None:  # a cached snapshot of a preset's repository
            return PRESETS[preset].with_source(folder)
        spec = ModelSpec(name=path.resolve().name, source=folder)
        teacher = student_teacher(path)
        return spec if teacher is None else dataclasses.replace(spec, passages=teacher)
    if _looks_like_hub_id(text):
        if text in _BY_SOURCE:
            return PRESETS[_BY_SOURCE[text]]
        return ModelSpec(name=text.split("/")[-1], source=text)
    raise ModelError(
        f"unknown model {arg!r}: not a preset ("
        + ", ".join(PRESETS)
        + "), not an existing directory, not a hub id of the form org/name"
    )


RUN_PREFIX = "run:"  # --model run:NAME=[Q-D:]FILE[|Q-D:FILE…]: a run file as a system
_DIRECTED = re.compile(r"^([a-z]{2,3})-([a-z]{2,3}):(.+)$")


def run_spec(text: str, arg: str) -> ModelSpec:
    """A TREC run file standing where a model stands: ``NAME=FILE`` (any direction) or
    ``NAME=th-en:FILE|hi-en:FILE`` (XQuAD's ids are the same in every language)."""
    name, eq, files = text.partition("=")
    name = name.strip()
    if not eq or not name or not files.strip():
        raise ModelError(f"--run {arg!r}: expected NAME=FILE or NAME=QUERY-DOC:FILE")
    parts = []
    for item in files.split("|"):
        m = _DIRECTED.match(item.strip())
        where, file = (f"{m[1]}-{m[2]}:", m[3]) if m else ("", item.strip())
        path = Path(file).expanduser()
        if not path.is_file():
            raise ModelError(f"run file {file!r} (for {name!r}) does not exist")
        parts.append(where + str(path.resolve()))
    undirected = [p for p in parts if not _DIRECTED.match(p)]
    if undirected and len(parts) > 1:
        raise ModelError(f"--run {arg!r}: with several files, give each its direction (th-en:FILE)")
    return ModelSpec(name=name, source="|".join(parts), kind="run", similarity="ip", pinned=True)


def run_values(items: list[str]) -> list[str]:
    """``--run NAME=[Q-D:]FILE`` values as ``--model`` values: one ``run:NAME=…`` per NAME,
    its files joined by ``|``."""
    merged: dict[str, list[str]] = {}
    for item in items:
        name, eq, file = item.partition("=")
        if not eq or not name.strip() or not file.strip():
            raise ModelError(f"--run {item!r}: expected NAME=FILE or NAME=QUERY-DOC:FILE")
        merged.setdefault(name.strip(), []).append(file.strip())
    return [RUN_PREFIX + f"{name}=" + "|".join(files) for name, files in merged.items()]


def run_files(spec: ModelSpec) -> dict[tuple[str, str] | None, Path]:
    """A run spec's files by direction (``None``: any direction)."""
    out: dict[tuple[str, str] | None, Path] = {}
    for part in spec.source.split("|"):
        m = _DIRECTED.match(part)
        out[(m[1], m[2]) if m else None] = Path(m[3] if m else part)
    return out


STUDENT_FILE = "clirlens_student.json"  # written by `clirlens distill` beside the weights


def student_teacher(folder: Path) -> ModelSpec | None:
    """The teacher a distilled student folder names (its passage encoder), else None."""
    card = Path(folder) / STUDENT_FILE
    if not card.is_file():
        return None
    import json

    try:
        teacher = json.loads(card.read_text(encoding="utf-8"))["teacher"]
    except (OSError, ValueError, KeyError, TypeError):
        raise ModelError(f"{card} is damaged: it should name the student's teacher") from None
    if not isinstance(teacher, str) or not teacher:
        raise ModelError(f"{card}: 'teacher' should be a --model value")
    spec = parse_model_arg(teacher)
    return spec.passages or spec


def student_init(spec: ModelSpec) -> ModelSpec | None:
    """The model a distilled student was initialised from (its card's ``student_init``),
    or None for any other model."""
    card = Path(spec.source) / STUDENT_FILE
    if spec.passages is None or not card.is_file():
        return None
    import json

    try:
        init = json.loads(card.read_text(encoding="utf-8")).get("student_init")
    except (OSError, ValueError, AttributeError):
        raise ModelError(f"{card} is damaged: it should name the student's start") from None
    return parse_model_arg(init) if isinstance(init, str) and init else None


def hub_id_of(path: Path) -> str | None:
    """The hub id of a snapshot in a Hugging Face cache layout
    (``…/models--ORG--NAME/snapshots/REVISION``), else None."""
    parts = Path(path).expanduser().resolve().parts
    for i, part in enumerate(parts[:-1]):
        if part.startswith("models--") and parts[i + 1] == "snapshots":
            org, sep, name = part[len("models--") :].partition("--")
            return f"{org}/{name}" if sep and org and name else None
    return None


def _looks_like_hub_id(text: str) -> bool:
    parts = text.split("/")
    return (
        len(parts) == 2
        and all(parts)
        and all(c.isalnum() or c in "-_." for c in text.replace("/", ""))
    )


# -- conventions set by hand ---------------------------------------------------------------
_CHOICES = {"pooling": ("cls", "mean"), "similarity": ("cosine", "ip")}


def _set_by_hand(spec: ModelSpec, text: str, arg: str) -> ModelSpec:
    values: dict[str, object] = {}
    for item in text.split(";"):
        if not item.strip():
            continue
        key, eq, raw = item.partition("=")
        key = key.strip()
        if eq and key == "passages":
            other = parse_model_arg(urllib.parse.unquote(raw))
            if other.kind != "dense" or spec.kind != "dense":
                raise ModelError(f"--model {arg!r}: both sides of a model must be dense")
            spec = dataclasses.replace(spec, passages=other.passages or other)
            continue
        if not eq or key not in CONVENTIONS:
            raise ModelError(
                f"--model {arg!r}: {item.strip()!r} is not a convention=value "
                f"(conventions: {', '.join(CONVENTIONS)})"
            )
        values[key] = _convention_value(key, urllib.parse.unquote(raw), arg)
    if spec.kind != "dense" and values:
        raise ModelError(f"--model {arg!r}: {spec.name} has no conventions to set")
    return spec.with_conventions("set by hand", **values)


def _convention_value(key: str, raw: str, arg: str) -> object:
    if key in _CHOICES:
        if raw not in _CHOICES[key]:
            raise ModelError(f"--model {arg!r}: {key} must be {' or '.join(_CHOICES[key])}")
        return raw
    if key == "max_length":
        if not re.fullmatch(r"[0-9]+", raw) or int(raw) <= 0:
            raise ModelError(f"--model {arg!r}: max_length must be a positive whole number")
        return int(raw)
    if key == "lowercase":
        table = {"true": True, "false": False, "none": None}
        if raw.lower() not in table:
            raise ModelError(f"--model {arg!r}: lowercase must be true, false or none")
        return table[raw.lower()]
    if key == "title_join":
        return None if raw.lower() == "none" else raw
    return raw  # prefixes


def model_arg(
    source: str, preset: str | None = None, conventions: Mapping[str, object] | None = None
) -> str:
    """The ``--model`` value for ``source`` bound to ``preset`` and/or with ``conventions``
    set by hand (the inverse of :func:`parse_model_arg`)."""
    head = f"{preset}={source}" if preset else source
    tail = ""
    for key, value in (conventions or {}).items():
        if key not in CONVENTIONS:
            raise ModelError(f"unknown convention {key!r} (conventions: {', '.join(CONVENTIONS)})")
        text = (
            "none"
            if value is None
            else str(value).lower()
            if isinstance(value, bool)
            else str(value)
        )
        tail += f";{key}={urllib.parse.quote(text, safe='')}"
    return head + tail
