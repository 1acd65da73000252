"""Short labels the views share."""

from __future__ import annotations


def model_letter(model: int) -> str:
    """Models are A, B, C… in the order they were given."""
    return chr(ord("A") + model) if model < 26 else str(model + 1)
