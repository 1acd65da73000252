"""Which languages a model saw in its retrieval fine-tuning: seen or zero-shot per direction.

A small sourced record per preset (:data:`KNOWN`), looked up by preset name and by hub id,
so a direction's query and document languages can be marked *seen* or *zero-shot* beside
every figure. A record is *complete* when its source lists the whole fine-tuning mixture:
then a language outside it is zero-shot; otherwise outside languages are *unknown*.
Pre-training (XLM-R's and mBERT's ~100 languages) is not counted: the question is which
directions the retrieval training covered.

Models that are not presets are unknown unless the user says otherwise in
``training_languages.toml`` (in clirlens' data folder, or the file ``$CLIRLENS_TRAINING_LANGS``
names)::

    [models."my-org/my-retriever"]     # a preset name, hub id or folder, as given to --model
    languages = ["en", "th"]
    complete = true
    source = "our fine-tuning log"
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from clirlens.core.errors import UserError
from clirlens.core.models.spec import ModelSpec
from clirlens.core.paths import data_dir

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

Status = Literal["seen", "zero-shot", "unknown"]
FILE = "training_languages.toml"

# ISO 639-3 codes as WebFAQ's fine-tuning script lists them, to the two-letter codes of XQuAD
_ISO3 = {
    "ara": "ar", "dan": "da", "deu": "de", "eng": "en", "fas": "fa", "fra": "fr", "hin": "hi",
    "ind": "id", "ita": "it", "jpn": "ja", "kor": "ko", "nld": "nl", "pol": "pl", "por": "pt",
    "rus": "ru", "spa": "es", "swe": "sv", "tur": "tr", "vie": "vi", "zho": "zh",
}  # fmt: skip
MR_TYDI = ("ar", "bn", "en", "fi", "id", "ja", "ko", "ru", "sw", "te", "th")
MIRACL = ("ar", "bn", "de", "en", "es", "fa", "fi", "fr", "hi", "id", "ja", "ko", "ru", "sw",
          "te", "th", "yo", "zh")  # fmt: skip


@dataclass(frozen=True)
class TrainingLanguages:
    """The languages of a model's retrieval fine-tuning, and where that is written."""

    languages: frozenset[str] | None  # None: nothing is known
    complete: bool
    source: str

    def status(self, lang: str) -> Status:
        if self.languages is None:
            return "unknown"
        if lang in self.languages:
            return "seen"
        return "zero-shot" if self.complete else "unknown"

    def to_dict(self) -> dict[str, Any]:
        langs = sorted(self.languages) if self.languages is not None else None
        return {"languages": langs, "complete": self.complete, "source": self.source}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainingLanguages:
        langs = data.get("languages")
        return cls(
            frozenset(langs) if langs is not None else None,
            bool(data.get("complete")),
            str(data.get("source", "")),
        )


UNKNOWN = TrainingLanguages(None, False, "not a preset: unknown (see training_languages.toml)")

KNOWN: dict[str, TrainingLanguages] = {
    # WebFAQ repository, src/webfaq/cli/fine_tune/ft_sample.py: the 20 languages of its
    # fine-tuning sample, after MS MARCO (English)
    "webfaq": TrainingLanguages(
        frozenset(_ISO3.values()),
        True,
        "MS MARCO, then WebFAQ in 20 languages (WebFAQ repository, "
        "src/webfaq/cli/fine_tune/ft_sample.py)",
    ),
    # castorini/mdpr-tied-pft-msmarco-ft-all: MS MARCO, then all Mr.TyDi languages
    # (pyserini's Mr.TyDi reproduction pages)
    "tydi": TrainingLanguages(
        frozenset(MR_TYDI),
        True,
        "MS MARCO, then all Mr.TyDi languages (pyserini's Mr.TyDi reproduction pages)",
    ),
    # Wang et al. 2024, "Multilingual E5 Text Embeddings" (arXiv 2402.05672) and the model
    # card: the fine-tuning mixture includes Mr.TyDi and MIRACL among other sets whose
    # languages are not all listed, so languages outside these two are unknown
    "me5-small": TrainingLanguages(
        frozenset(MR_TYDI + MIRACL),
        False,
        "fine-tuning mixture includes Mr.TyDi and MIRACL; the rest is not itemised "
        "(multilingual-e5 report, arXiv 2402.05672)",
    ),
}


def training_file() -> Path:
    env = os.environ.get("CLIRLENS_TRAINING_LANGS")
    return Path(env) if env else data_dir() / FILE


def read_user_records(path: Path) -> dict[str, TrainingLanguages]:
    """The user's records (module notes); one line naming the file when it is malformed."""
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UserError(f"{path}: not a readable TOML file ({exc}); fix or remove it") from None
    out = {}
    for name, rec in (data.get("models") or {}).items():
        langs = rec.get("languages") if isinstance(rec, dict) else None
        if not isinstance(langs, list) or not all(isinstance(x, str) for x in langs):
            raise UserError(f"{path}: [models.{name!r}] needs languages = a list of language codes")
        out[str(name)] = TrainingLanguages(
            frozenset(x.strip().lower() for x in langs),
            bool(rec.get("complete", False)),
            str(rec.get("source", f"set by hand in {path}")),
        )
    return out


def training_languages(spec: ModelSpec, user: dict[str, TrainingLanguages] | None = None):
    """The record for ``spec``: the user's (by name, source or preset) first, then the
    preset's; :data:`UNKNOWN` otherwise. ``None`` for BM25 (nothing trained)."""
    if spec.kind != "dense":
        return None
    user = read_user_records(training_file()) if user is None else user
    for key in (spec.name, spec.source, spec.preset):
        if key and key in user:
            return user[key]
    if spec.preset in KNOWN and spec.passages is None:  # (a distilled student: its own)
        return KNOWN[spec.preset]
    return UNKNOWN
