"""clirlens.storage: the judgments database (SQLAlchemy 2.0 + Alembic; DESIGN.md §6).

Imports core types only, never Qt or the GUI, and hands out frozen records, never ORM objects.

* :mod:`.repository` — :class:`~.repository.JudgmentRepository`, the API: campaigns and pools,
  judging, undo, progress, qrels for evaluation, agreement, import of judgments;
* :mod:`.commands` — do/undo judgment edits for the GUI's undo stack;
* :mod:`.db` — opening a database (SQLite by default, any SQLAlchemy URL), backups, migrations;
* :mod:`.qrels_io` — TREC qrels reading (validated) and writing;
* :mod:`.agreement` — weighted Cohen's kappa, Krippendorff's alpha, aggregated qrels;
* :mod:`.pool` — depth-k pooling with a seeded shuffle;
* :mod:`.records` — the frozen records; :mod:`.models` — the ORM tables (storage-internal);
* :mod:`.cli` — ``clirlens judgments ...`` and ``clirlens campaigns list``.

Nothing is imported here, so ``import clirlens.storage.cli`` stays light.
"""
