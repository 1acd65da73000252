"""Optimal-transport token alignment (DESIGN.md §5; issue 4).

* :mod:`~clirlens.core.ot.alignment`: :class:`Alignment`, :func:`align_states`,
  :func:`align_texts` (one pair of texts, one or two models);
* :mod:`~clirlens.core.ot.solvers`: Sinkhorn, EMD and unbalanced plans through POT;
* :mod:`~clirlens.core.ot.batch`: many small problems at once (exact zero-mass padding);
* :mod:`~clirlens.core.ot.words`: sub-word pieces merged into words;
* :mod:`~clirlens.core.ot.scoring`: per-language alignment scores on parallel questions.

Importing this package does not import torch; POT is imported when a solver first runs.
"""

from clirlens.core.ot.alignment import Alignment, align_states, align_texts, cosine_cost
from clirlens.core.ot.batch import BatchResult, TokenSets, cross_costs, paired_costs
from clirlens.core.ot.problem import SOLVERS
from clirlens.core.ot.scoring import LanguageScore, TokenStateCache, score_language, score_languages
from clirlens.core.ot.solvers import PlanResult, solve
from clirlens.core.ot.words import merge_words

__all__ = [
    "SOLVERS",
    "Alignment",
    "BatchResult",
    "LanguageScore",
    "PlanResult",
    "TokenSets",
    "TokenStateCache",
    "align_states",
    "align_texts",
    "cosine_cost",
    "cross_costs",
    "merge_words",
    "paired_costs",
    "score_language",
    "score_languages",
    "solve",
]
