"""Arguments and helpers shared by the core subcommands: one name for each option across
``eval``, ``index``, ``search`` and the application (``--depth``, ``--xquad``/``--beir``,
``--query-langs``/``--doc-langs``, ``--subset``, ``--db``…), and the workspace they describe."""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from clirlens.core.errors import UserError
from clirlens.core.retrieval.index_kinds import FLAT_MAX, INDEX_KINDS

if TYPE_CHECKING:
    from clirlens.core.types import Direction, Qrels
    from clirlens.core.workspace.config import WorkspaceConfig

DEFAULT_DEPTH = 100

# campaign judgments as qrels per direction, provided by the storage layer (core cannot
# import it): (db, campaign, annotator, method, min grade) ->
# (qrels per direction, where they came from, the grade that counts as relevant)
Judgments = tuple["dict[Direction, Qrels]", str, int]
JudgmentsLoader = Callable[[str | None, str, str | None, str, int], Judgments]
_JUDGMENTS: list[JudgmentsLoader] = []


def provide_judgments(loader: JudgmentsLoader) -> None:
    """Let ``eval --campaign`` read judgments (storage's CLI registers its loader)."""
    _JUDGMENTS[:] = [loader]


def load_judgments(
    db: str | None, campaign: str, annotator: str | None, method: str, min_grade: int
) -> Judgments:
    if not _JUDGMENTS:
        raise UserError(
            "--campaign needs the judgments database, which this command was started "
            "without: run it as `clirlens eval …`"
        )
    return _JUDGMENTS[0](db, campaign, annotator, method, min_grade)


class Subcommands(Protocol):
    """What ``ArgumentParser.add_subparsers()`` returns, as the registrars use it (its class
    is private to argparse)."""

    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser: ...


def add_model_args(p: argparse.ArgumentParser, *, required: bool = True) -> None:
    p.add_argument(
        "--model",
        "-m",
        action="append",
        dest="models",
        metavar="M",
        help="preset (webfaq, tydi, me5-small, bm25), preset=DIR, "
        "a local model directory, or a hub id; repeat for several models",
    )
    add_run_arg(p)
    p.set_defaults(models_required=required)
    add_runtime_args(p, progress=False)
    p.add_argument(
        "--cache-dir",
        default=None,
        help="embedding/index cache (default: the user cache dir, or $CLIRLENS_CACHE_DIR)",
    )
    p.add_argument(
        "--index",
        choices=INDEX_KINDS,
        default="auto",
        help=f"search index: flat = exact inner product, hnsw and ivfpq approximate (their "
        f"recall@k against exact search is measured and reported); auto (default) = flat up "
        f"to {FLAT_MAX:,} passages, hnsw above",
    )
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bars")


def add_run_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--run",
        action="append",
        dest="runs",
        metavar="NAME=[Q-D:]FILE",
        help="a TREC run file from another tool as one more system (repeat the NAME with "
        "th-en:FILE, hi-en:FILE… for several directions of XQuAD, whose question ids are "
        "the same in every language)",
    )


def model_values(args: argparse.Namespace) -> list[str]:
    """``--model`` values, then each ``--run`` NAME as one ``run:NAME=…`` value (its files
    joined by ``|``); an error when a command needs a system and none is given."""
    from clirlens.core.models.spec import run_values

    models = list(getattr(args, "models", None) or [])
    models += run_values(getattr(args, "runs", None) or [])
    if not models and getattr(args, "models_required", False):
        raise UserError("give at least one --model (or --run NAME=FILE)")
    return models


def add_data_args(
    p: argparse.ArgumentParser, *, query_default: str = "el,hi,ro,th,tr", doc_default: str = "en"
) -> None:
    """The dataset: an XQuAD folder or a BEIR folder, its directions and an optional subset."""
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--xquad", type=Path, metavar="DIR", help="folder with xquad.<lang>.json files"
    )
    source.add_argument(
        "--beir", type=Path, metavar="DIR", help="BEIR folder (corpus.jsonl, queries.jsonl, qrels/)"
    )
    source.add_argument(
        "--dataset",
        metavar="NAME",
        help="an ir_datasets collection by name, e.g. mr-tydi/th/test or miracl/hi/dev "
        "(downloaded and cached by ir_datasets on first use)",
    )
    p.add_argument("--split", default="test", help="BEIR qrels split (default: test)")
    p.add_argument(
        "--query-langs",
        default=None,
        help=f"comma-separated (XQuAD default: {query_default or 'none'}; BEIR: the language "
        "of its queries, default und)",
    )
    p.add_argument(
        "--doc-langs",
        default=None,
        help=f"comma-separated (XQuAD default: {doc_default}; BEIR: the corpus' language)",
    )
    p.set_defaults(query_langs_default=query_default, doc_langs_default=doc_default)
    p.add_argument(
        "--subset",
        type=positive_int,
        metavar="N",
        help="only the first N articles (XQuAD) or passages (BEIR)",
    )


def add_campaign_args(p: argparse.ArgumentParser, purpose: str) -> Any:
    """``--campaign``, ``--annotator``, ``--aggregate`` and ``--db``: whose grades, from
    where (``eval`` evaluates against them, ``report`` shows them); returns the group."""
    g = p.add_argument_group("human judgments (a campaign's grades)")
    g.add_argument("--campaign", metavar="NAME", help=purpose)
    g.add_argument("--annotator", metavar="A", help="one annotator's grades (default: all)")
    g.add_argument(
        "--aggregate",
        choices=("majority", "mean"),
        default="majority",
        help="several annotators: the most frequent grade (default), or relevance from "
        "the mean grade (>= 2)",
    )
    g.add_argument("--db", metavar="URL", help="judgments database (default: $CLIRLENS_DB)")
    return g


def add_depth_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--depth",
        type=positive_int,
        default=DEFAULT_DEPTH,
        metavar="K",
        help=f"retrieval depth; a gold passage below it counts as missed (default {DEFAULT_DEPTH})",
    )


def workspace_config(args: argparse.Namespace, **extra: Any) -> WorkspaceConfig:
    """The :class:`WorkspaceConfig` the data, model and runtime flags describe."""
    from clirlens.core.workspace.config import WorkspaceConfig

    check_device(args.device)
    beir = getattr(args, "beir", None)
    irds = getattr(args, "dataset", None)
    qtext, dtext = args.query_langs, args.doc_langs
    if beir is None and irds is None:
        qtext = args.query_langs_default if qtext is None else qtext
        dtext = args.doc_langs_default if dtext is None else dtext
    qlangs = split_langs(qtext, "--query-langs") if qtext else []
    dlangs = split_langs(dtext, "--doc-langs") if dtext else []
    if (beir is not None or irds is not None) and (len(qlangs) > 1 or len(dlangs) > 1):
        raise UserError("a BEIR folder has one query and one passage language: give one each")
    kind = "beir" if beir is not None else "irds" if irds is not None else "xquad"
    return WorkspaceConfig(
        dataset=str(beir if beir is not None else irds if irds is not None else args.xquad),
        kind=kind,
        models=tuple(model_values(args)),
        query_langs=tuple(qlangs),
        doc_langs=tuple(dlangs),
        subset=getattr(args, "subset", None),
        k=getattr(args, "depth", DEFAULT_DEPTH),
        dtype=args.dtype,
        batch_size=args.batch_size,
        split=getattr(args, "split", "test"),
        device=args.device,
        index=getattr(args, "index", "auto"),
        db=getattr(args, "db", None),
        **extra,
    )


def add_runtime_args(p: argparse.ArgumentParser, progress: bool = True) -> None:
    """Where and how encoders run: precision, device, batch size (and progress bars)."""
    p.add_argument(
        "--dtype",
        choices=("fp32", "bf16"),
        default="fp32",
        help="encoder precision: bf16 runs matrix products and the residual stream in "
        "bfloat16 (norm statistics and pooling in fp32), much faster on CPUs with AMX or "
        "AVX512-BF16",
    )
    p.add_argument(
        "--device", type=device_arg, default="auto", help="auto (default), cpu, cuda, cuda:N, mps"
    )
    p.add_argument("--batch-size", type=positive_int, default=32)
    if progress:
        p.add_argument("--quiet", "-q", action="store_true", help="no progress bars")


def split_langs(value: str, what: str) -> list[str]:
    """Comma-separated language codes, lower-cased (``TH`` is ``th``); each must look like a
    code (the dataset then says whether it has it)."""
    langs = [x.strip().lower() for x in value.split(",") if x.strip()]
    if not langs:
        raise UserError(f"{what}: no language given in {value!r}")
    for lang in langs:
        if not _LANG.fullmatch(lang):
            raise UserError(f"{what}: {lang!r} is not a language code (e.g. th, en, zh-cn)")
    return langs


_LANG = re.compile(r"[a-z]{2,3}(?:-[a-z0-9]+)?")
DEVICES = re.compile(r"auto|cpu|mps|cuda(?::[0-9]+)?")


def device_arg(value: str) -> str:
    """``--device``: checked when the arguments are parsed, not when a model first loads (a
    run served from the cache never loads one)."""
    device = value.strip().lower()
    if not DEVICES.fullmatch(device):
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a device (auto, cpu, cuda, cuda:N, mps)"
        )
    return device


def check_device(device: str) -> None:
    """That ``device`` exists here (imports torch only for cuda and mps)."""
    if device in ("auto", "cpu"):
        return
    import torch

    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise UserError(
                f"--device {device}: this torch build has no usable CUDA GPU "
                "(a CPU build, or no GPU here); use --device cpu or auto"
            )
        index = int(device.partition(":")[2] or 0)
        if index >= torch.cuda.device_count():
            raise UserError(
                f"--device {device}: there are {torch.cuda.device_count()} CUDA devices here"
            )
    elif device == "mps" and not torch.backends.mps.is_available():
        raise UserError("--device mps: Apple's MPS is not available here; use --device cpu or auto")


def positive_int(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if n <= 0:
        raise argparse.ArgumentTypeError(f"{value!r} must be positive")
    return n
