"""The application's look: style sheet, icon and fonts from :mod:`clirlens.assets`
(read through :mod:`importlib.resources`, so they work from a wheel as from the source)."""

from __future__ import annotations

from importlib import resources

from PySide6.QtGui import QFont, QFontDatabase, QIcon, QPixmap
from PySide6.QtWidgets import QApplication

# tried in order: Latin/Greek/Cyrillic first, then the scripts of XQuAD's other languages
FONT_FAMILIES = (
    "Noto Sans",
    "Noto Sans Thai",
    "Noto Sans Devanagari",
    "Noto Sans Arabic",
    "Noto Sans CJK SC",
    "DejaVu Sans",
)


def asset_text(name: str) -> str:
    return resources.files("clirlens.assets").joinpath(name).read_text(encoding="utf-8")


def asset_bytes(name: str) -> bytes:
    return resources.files("clirlens.assets").joinpath(name).read_bytes()


def app_icon() -> QIcon:
    pixmap = QPixmap()
    pixmap.loadFromData(asset_bytes("icon.svg"), "SVG")
    return QIcon(pixmap)


def apply_style(app: QApplication) -> None:
    """Icon, fonts with fallbacks for Thai, Devanagari, Arabic and CJK, style sheet."""
    app.setWindowIcon(app_icon())
    available = set(QFontDatabase.families())
    families = [f for f in FONT_FAMILIES if f in available]
    if families:
        font = QFont(app.font())
        font.setFamilies(families)
        font.setPointSize(max(font.pointSize(), 10))
        app.setFont(font)
    app.setStyleSheet(asset_text("style.qss"))
