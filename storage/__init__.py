"""clirlens.storage: the judgments database (SQLAlchemy 2.0 + Alembic; docs/architecture.md §6).

Imports core types only, never Qt or the GUI, and hands out frozen records, never ORM objects.

* :mod:`.repository` — :class:`~.repository.JudgmentRepository`, the API: campaigns and pools,
  judging, undo, progress, qrels for evaluation, agreement, import of judgments;
* :mod:`.campaigns` — its campaign half: create, list, browse pools, import judgments;
* :mod:`.judging` — one annotator's pass through a campaign (resume, move, progress) and the
  judgments as qrels per direction;
* :mod:`.commands` — do/undo judgment edits for the GUI's undo stack;
* :mod:`.changes` — the one place a judgment changes (with its history entry), lookups, rows
  to records; :mod:`.transactions` — one retried transaction per repository call;
* :mod:`.db` — opening a database (SQLite by default, any SQLAlchemy URL), backups, migrations;
* :mod:`.exchange` — TREC qrels import and export (read by core's one qrels reader);
* :mod:`.agreement` — weighted Cohen's kappa, Krippendorff's alpha, aggregated qrels;
* :mod:`.pool` — depth-k pooling with a seeded shuffle;
* :mod:`.records` — the frozen records; :mod:`.tables` — the ORM tables (storage-internal);
* :mod:`.cli` — ``clirlens judgments ...`` and ``clirlens campaigns list``.

Nothing is imported here, so ``import clirlens.storage.cli`` stays light.
"""
