"""Optimal-transport token alignment (docs/architecture.md §5).

* :mod:`~clirlens.core.ot.problem`: the solvers, :class:`OTParams` and :class:`ScoringOptions`
  (what every path states), validation;
* :mod:`~clirlens.core.ot.alignment`: :class:`Alignment`, :func:`align_states`,
  :func:`align_texts` (one pair of texts, one or two models);
* :mod:`~clirlens.core.ot.solvers`: Sinkhorn, EMD and unbalanced plans through POT;
* :mod:`~clirlens.core.ot.scaling` and :mod:`~clirlens.core.ot.batch`: many small problems at
  once (exact zero-mass padding);
* :mod:`~clirlens.core.ot.words`: sub-word pieces merged into words;
* :mod:`~clirlens.core.ot.scoring`: per-language alignment scores on parallel questions;
* :mod:`~clirlens.core.ot.session`: interactive alignment with cached token states.

Nothing is imported here: importing a submodule costs only what that module needs (no torch;
POT is imported when a solver first runs).
"""
