"""Arguments and helpers shared by the core subcommands."""

from __future__ import annotations

import argparse
from typing import Any, Protocol

from clirlens.core.errors import UserError


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
        required=required,
        metavar="M",
        help="preset (webfaq, tydi, me5-small, bm25), preset=DIR, "
        "a local model directory, or a hub id; repeat for several models",
    )
    add_runtime_args(p, progress=False)
    p.add_argument(
        "--cache-dir",
        default=None,
        help="embedding/index cache (default: the user cache dir, or $CLIRLENS_CACHE_DIR)",
    )
    p.add_argument(
        "--index",
        choices=("flat", "hnsw", "ivfpq"),
        default="flat",
        help="FAISS index type (flat = exact inner product)",
    )
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bars")


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
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, mps")
    p.add_argument("--batch-size", type=positive_int, default=32)
    if progress:
        p.add_argument("--quiet", "-q", action="store_true", help="no progress bars")


def split_langs(value: str, what: str) -> list[str]:
    langs = [x.strip() for x in value.split(",") if x.strip()]
    if not langs:
        raise UserError(f"{what}: no language given in {value!r}")
    return langs


def positive_int(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if n <= 0:
        raise argparse.ArgumentTypeError(f"{value!r} must be positive")
    return n
