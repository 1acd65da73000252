"""AlignSession (token states cached, only the solve reruns) and best_window."""

from __future__ import annotations

import numpy as np
import pytest

from clirlens.core.errors import UserError
from clirlens.core.models.encoder import Encoder
from clirlens.core.models.spec import parse_model_arg
from clirlens.core.ot.alignment import align_states
from clirlens.core.ot.problem import OTParams
from clirlens.core.ot.session import AlignPair, AlignSession, best_window
from clirlens.core.progress import run


def test_best_window_finds_the_heaviest_columns():
    plan = np.zeros((3, 10))
    plan[:, 6:9] = 1.0
    plan[0, 0] = 0.5
    assert best_window(plan, 3) == (6, 9)
    assert best_window(plan, 4) == (5, 9)  # leftmost of the tied windows holding 6..8
    assert best_window(plan, 10) == (0, 10)
    assert best_window(plan, 64) == (0, 10)


def test_best_window_matches_brute_force():
    rng = np.random.default_rng(0)
    plan = rng.random((5, 40)) ** 4
    w = 7
    sums = [plan[:, s : s + w].sum() for s in range(40 - w + 1)]
    assert best_window(plan, w) == (int(np.argmax(sums)), int(np.argmax(sums)) + w)
    with pytest.raises(ValueError):
        best_window(plan, 0)


@pytest.fixture(scope="module")
def encoder(me5_dir, fast_dtype):
    return Encoder(parse_model_arg("me5-small=" + str(me5_dir)), dtype=fast_dtype)


def test_session_encodes_once_and_matches_align_states(encoder):
    session = AlignSession()
    pair = AlignPair("ปารีสเป็นเมืองหลวงของฝรั่งเศส", "Paris is the capital of France.")
    (a,) = run(session.compute([encoder], pair, OTParams(eps=0.1)))
    assert session.encoded == 2
    (b,) = run(session.compute([encoder], pair, OTParams(eps=0.01, solver="sinkhorn")))
    (c,) = run(session.compute([encoder], pair, OTParams(solver="emd", words=True)))
    assert session.encoded == 2  # only the solve reran
    assert (a.epsilon, b.epsilon, c.solver, c.words) == (0.1, 0.01, "emd", True)
    assert not np.allclose(a.plan, b.plan)
    # the same as aligning freshly encoded states
    src, tgt = run(encoder.token_states([pair.source, pair.target], "query", -1))
    ref = align_states(src, tgt, eps=0.1)
    np.testing.assert_allclose(a.plan, ref.plan, atol=1e-12)
    assert a.plan.shape == (len(a.source_tokens), len(a.target_tokens))
    assert a.source_tokens == ref.source_tokens


def test_session_lru_and_errors(encoder):
    session = AlignSession(max_states=2)
    run(session.states(encoder, [("one", "query"), ("two", "query"), ("three", "query")]))
    assert len(session) == 2
    assert session.cached(encoder, "one", "query", -1) is None
    assert session.cached(encoder, "three", "query", -1) is not None
    with pytest.raises(UserError):
        run(session.compute([encoder], AlignPair(" ", "x"), OTParams()))
    with pytest.raises(UserError):
        run(session.compute([encoder], AlignPair("a", "b"), OTParams("unbalanced", tau=None)))
