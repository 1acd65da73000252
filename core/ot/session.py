"""Interactive alignment: token states cached, only the OT solve reruns.

Encoding a text (:meth:`Encoder.token_states`) is the slow part of an alignment; the solve on
a 64×256 pair takes milliseconds. :class:`AlignSession` keeps the raw token states of the
texts it has seen in a small LRU keyed by ``(encoder fingerprint, role, layer, text)``, so a
view that changes ε, the solver, τ or sub-words/words recomputes without running a model.

:func:`best_window` finds the contiguous run of at most ``width`` target tokens carrying
the most plan mass (``argmax_s sum_{j=s}^{s+w-1} sum_i P[i, j]``), to show a long passage
around the region the query aligns to.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from clirlens.core.errors import UserError
from clirlens.core.ot.alignment import Alignment, Role, align_states, check_text
from clirlens.core.ot.problem import OTParams
from clirlens.core.progress import Job
from clirlens.core.types import Progress, TokenStates

if TYPE_CHECKING:
    from clirlens.core.models.encoder import Encoder

    Sides = Encoder | tuple[Encoder, Encoder]  # one encoder, or (the source's, the target's)


@dataclass(frozen=True)
class AlignPair:
    """Two texts to align: the source gives the plan's rows, the target its columns."""

    source: str
    target: str
    source_role: Role = "query"
    target_role: Role = "query"
    source_label: str = "source"
    target_label: str = "target"


class AlignSession:
    """Aligns pairs of texts under one or more encoders, caching token states (LRU of
    ``max_states`` texts; thread-safe, so a worker may fill it while the GUI reads)."""

    def __init__(self, max_states: int = 256) -> None:
        self.max_states = max_states
        self._states: OrderedDict[tuple[str, str, int, str], TokenStates] = OrderedDict()
        self._lock = threading.Lock()
        self.encoded = 0  # texts run through a model (for tests and status lines)

    def __len__(self) -> int:
        return len(self._states)

    def cached(self, encoder: Encoder, text: str, role: str, layer: int) -> TokenStates | None:
        key = (encoder.fingerprint(), role, layer, text)
        with self._lock:
            states = self._states.get(key)
            if states is not None:
                self._states.move_to_end(key)
            return states

    def states(
        self, encoder: Encoder, items: Sequence[tuple[str, Role]], layer: int = -1
    ) -> Job[list[TokenStates]]:
        """Raw token states (special tokens kept) of ``(text, role)`` items, encoding only
        those not cached (a generator yielding progress)."""
        found: dict[tuple[str, str], TokenStates] = {}
        for text, role in items:
            hit = self.cached(encoder, text, role, layer)
            if hit is not None:
                found[(text, role)] = hit
        for role in dict.fromkeys(r for _, r in items):
            missing = list(dict.fromkeys(t for t, r in items if r == role and (t, r) not in found))
            if not missing:
                continue
            new = yield from encoder.token_states(missing, role, layer)
            fp = encoder.fingerprint()
            with self._lock:
                for text, st in zip(missing, new, strict=True):
                    found[(text, role)] = st
                    self._states[(fp, role, layer, text)] = st
                    self.encoded += 1
                while len(self._states) > self.max_states:
                    self._states.popitem(last=False)
        return [found[(t, r)] for t, r in items]

    def compute(
        self, encoders: Sequence[Sides], pair: AlignPair, params: OTParams
    ) -> Job[tuple[Alignment, ...]]:
        """The alignment of ``pair`` under each encoder, or each ``(source encoder, target
        encoder)`` pair (a generator: yields progress while encoding, returns one
        :class:`Alignment` per entry, in order)."""
        check_text(pair.source, "source")
        check_text(pair.target, "target")
        params.method  # noqa: B018 - validates (e.g. unbalanced OT without τ) before encoding
        out = []
        for k, sides in enumerate(encoders):
            s_enc, t_enc = sides if isinstance(sides, tuple) else (sides, sides)
            yield Progress(k, len(encoders), f"aligning with {s_enc.name}")
            (src,) = yield from self.states(s_enc, [(pair.source, pair.source_role)], params.layer)
            (tgt,) = yield from self.states(t_enc, [(pair.target, pair.target_role)], params.layer)
            out.append(
                align_states(
                    src, tgt, **params.solve_args(), weights=params.weights, words=params.words
                )
            )
        yield Progress(len(encoders), len(encoders), "aligned")
        return tuple(out)


def best_window(plan: np.ndarray, width: int = 64) -> tuple[int, int]:
    """``(start, stop)`` of the contiguous columns (at most ``width``) of ``plan`` with the
    most transported mass; the whole range when it is no wider. Ties: the leftmost."""
    plan = np.asarray(plan, dtype=np.float64)
    if plan.ndim != 2:
        raise ValueError(f"plan must be 2-D, got shape {plan.shape}")
    if width <= 0:
        raise ValueError(f"width must be positive, got {width}")
    m = plan.shape[1]
    if m <= width:
        return 0, m
    mass = np.concatenate([[0.0], np.cumsum(plan.sum(axis=0))])
    sums = mass[width:] - mass[:-width]
    start = int(np.argmax(sums))
    return start, start + width


def model_sides(workspace: Any, model: int, doc_lang: str | None = None) -> Sides:
    """What aligns for the workspace's ``model``: its encoder, or for an asymmetric model
    ``(query encoder, passage encoder)``: a distilled student's query tokens against the
    target under its teacher, the plan it was trained on."""
    encoder = model_encoder(workspace, model, doc_lang)
    lang = doc_lang or workspace.default_direction[1]
    passages = getattr(workspace.retriever(model, lang), "passage_encoder", encoder)
    return encoder if passages is encoder else (encoder, passages)


def distillation_sides(
    workspace: Any, model: int, doc_lang: str | None, loaded: dict[str, Encoder]
) -> tuple[tuple[Sides, Sides], str]:
    """For a distilled student ``model``: ``((its initialisation, teacher), (student,
    teacher))`` and the initialisation's name, what distillation changed (as
    :func:`clirlens.core.distill.run.plans_before_after` computes it). ``loaded`` keeps
    the initialisations' encoders between calls."""
    from clirlens.core.models.encoder import Encoder
    from clirlens.core.models.spec import student_init

    spec = student_init(workspace.specs[model])
    if spec is None:
        raise UserError(f"{workspace.specs[model].name} is not a distilled student")
    student, teacher = model_sides(workspace, model, doc_lang)  # type: ignore[misc]
    if spec.source not in loaded:
        cfg = workspace.config
        loaded[spec.source] = Encoder(spec, device=cfg.device, dtype=cfg.dtype)
    return ((loaded[spec.source], teacher), (student, teacher)), spec.name


def model_encoder(workspace: Any, model: int, doc_lang: str | None = None) -> Encoder:
    """The encoder of the workspace's ``model`` (shared with its retriever, so weights load
    once). Raises :class:`UserError` for a model without token states (BM25)."""
    spec = workspace.specs[model]
    if spec.kind != "dense":
        what = "a run file" if spec.kind == "run" else f"a lexical model ({spec.kind})"
        raise UserError(
            f"{spec.name} is {what}: it has no token states to align; choose a pair of dense models"
        )
    lang = doc_lang or workspace.default_direction[1]
    encoder = workspace.encoder(model, lang)
    if encoder is None:
        raise UserError(f"{spec.name} has no encoder to align with")
    return encoder
