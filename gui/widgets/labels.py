"""Short labels the views share."""

from __future__ import annotations


def model_letter(model: int) -> str:
    """Models are A, B, C… in the order they were given."""
    return chr(ord("A") + model) if model < 26 else str(model + 1)


def model_title(model: int, name: str, blind: bool = False) -> str:
    """``"A: me5-small"``, or ``"List 1"`` while a blind campaign hides which model is which."""
    return f"List {model + 1}" if blind else f"{model_letter(model)}: {name}"
