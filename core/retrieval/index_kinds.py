"""The search index kinds and the size at which ``auto`` leaves exact search (apart from
:mod:`clirlens.core.retrieval.index` so that building the command line imports no numpy)."""

INDEX_KINDS = ("auto", "flat", "hnsw", "ivfpq")
FLAT_MAX = 250_000  # above this, auto builds an HNSW graph (exact search grows with n)
