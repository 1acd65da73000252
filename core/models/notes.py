"""What a user is told about a model's conventions: one line each, when they are guesses or
were capped (the origins :class:`~clirlens.core.models.spec.ModelSpec` records)."""

from __future__ import annotations

from clirlens.core.models.spec import DEFAULT, ModelSpec


def convention_notes(spec: ModelSpec) -> list[str]:
    """What a user should be told about a model's conventions, one line each: that they are
    guesses (:func:`convention_note`), that its max length was capped."""
    notes = [n] if (n := convention_note(spec)) is not None else []
    if spec.origin("max_length").startswith("capped"):
        notes.append(f"{spec.name}: max length {spec.origin('max_length')}")
    return notes


def convention_note(spec: ModelSpec) -> str | None:
    """One line when a dense model's pooling, similarity and prefixes are clirlens' guesses
    (no preset, no sentence-transformers files, nothing set by hand); None otherwise."""
    if spec.kind != "dense":
        return None
    keys = ("pooling", "similarity", "query_prefix", "passage_prefix")
    if any(spec.origin(k) != DEFAULT for k in keys):
        return None
    return (
        f"{spec.name}: no preset and no sentence-transformers files give its conventions, "
        f"so they are guesses ({spec.summary()}); if it is a preset's model, bind it "
        f"(--model me5-small={spec.source}, or the start dialog's Conventions), or set them"
    )
