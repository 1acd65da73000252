"""A tiny sentence encoder the corpus-pipeline tests share (one per module)."""

from __future__ import annotations

import pytest

from ..tiny_models import make_tiny_bert


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return make_tiny_bert(
        tmp_path_factory.mktemp("m") / "tiny",
        seed=5,
        sentence_transformers={"pooling": "mean", "normalize": True},
    )
