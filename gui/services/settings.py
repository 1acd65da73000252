"""The application's remembered UI state, typed, over :class:`QSettings` (docs/architecture.md §2.6).

One place reads and writes every key, so the rest of the GUI never handles raw strings:
window geometry and dock/toolbar state, the current view, recent workspaces and the last
one (stored as JSON of :class:`~clirlens.core.workspace.config.WorkspaceConfig`), model
folders the user added, the last download folder, and the judging screen's last campaign and
annotator. Experiment parameters are not kept here.
"""

from __future__ import annotations

import json
import os
from typing import Any

from PySide6.QtCore import QByteArray, QSettings

from clirlens.core.errors import UserError
from clirlens.core.workspace.config import WorkspaceConfig

MAX_RECENT = 8


class Settings:
    """Typed access to a :class:`QSettings` store (the application's default one unless
    given, e.g. an INI file for tests: :meth:`at`)."""

    def __init__(self, store: QSettings | None = None) -> None:
        self._s = store if store is not None else QSettings()

    @classmethod
    def at(cls, path: str | os.PathLike[str]) -> Settings:
        return cls(QSettings(str(path), QSettings.Format.IniFormat))

    @property
    def store(self) -> QSettings:
        return self._s

    def sync(self) -> None:
        self._s.sync()

    # -- helpers --------------------------------------------------------------------------------
    def _bytes(self, key: str) -> QByteArray | None:
        value = self._s.value(key)
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def _json(self, key: str, default: Any) -> Any:
        raw = self._s.value(key)
        if not isinstance(raw, str) or not raw:
            return default
        try:
            return json.loads(raw)
        except (ValueError, RecursionError):
            return default

    def _str(self, key: str) -> str:
        value = self._s.value(key, "")
        return value if isinstance(value, str) else ""

    def _set_json(self, key: str, value: Any) -> None:
        self._s.setValue(key, json.dumps(value, ensure_ascii=False))

    @staticmethod
    def _config(data: Any) -> WorkspaceConfig | None:
        if not isinstance(data, dict):
            return None
        try:
            return WorkspaceConfig.from_dict(data)
        except UserError:
            return None

    # -- window ---------------------------------------------------------------------------------
    @property
    def geometry(self) -> QByteArray | None:
        return self._bytes("window/geometry")

    @geometry.setter
    def geometry(self, value: QByteArray) -> None:
        self._s.setValue("window/geometry", value)

    @property
    def window_state(self) -> QByteArray | None:
        """Docks and toolbars (:meth:`QMainWindow.saveState`)."""
        return self._bytes("window/state")

    @window_state.setter
    def window_state(self, value: QByteArray) -> None:
        self._s.setValue("window/state", value)

    @property
    def current_view(self) -> str:
        value = self._s.value("window/view", "compare")
        return value if isinstance(value, str) and value else "compare"

    @current_view.setter
    def current_view(self, name: str) -> None:
        self._s.setValue("window/view", name)

    # -- workspaces -----------------------------------------------------------------------------
    @property
    def recent_workspaces(self) -> list[WorkspaceConfig]:
        items = self._json("workspaces/recent", [])
        configs = [self._config(d) for d in items] if isinstance(items, list) else []
        return [c for c in configs if c is not None]

    @recent_workspaces.setter
    def recent_workspaces(self, configs: list[WorkspaceConfig]) -> None:
        self._set_json("workspaces/recent", [c.to_dict() for c in configs[:MAX_RECENT]])

    @property
    def last_workspace(self) -> WorkspaceConfig | None:
        return self._config(self._json("workspaces/last", None))

    @last_workspace.setter
    def last_workspace(self, config: WorkspaceConfig | None) -> None:
        if config is None:
            self._s.remove("workspaces/last")
        else:
            self._set_json("workspaces/last", config.to_dict())

    def remember_workspace(self, config: WorkspaceConfig) -> None:
        """Make ``config`` the last workspace and the first of the recent ones."""
        self.last_workspace = config
        self.recent_workspaces = [config, *(c for c in self.recent_workspaces if c != config)]

    def clear_recent(self) -> None:
        self._s.remove("workspaces/recent")

    # -- models and downloads ---------------------------------------------------------------------
    @property
    def model_folders(self) -> list[str]:
        items = self._json("models/folders", [])
        return [x for x in items if isinstance(x, str)] if isinstance(items, list) else []

    @model_folders.setter
    def model_folders(self, folders: list[str]) -> None:
        self._set_json("models/folders", list(dict.fromkeys(folders)))

    def add_model_folders(self, folders: list[str]) -> None:
        self.model_folders = [*self.model_folders, *folders]

    @property
    def download_dir(self) -> str:
        return self._str("data/download_dir")

    @download_dir.setter
    def download_dir(self, path: str) -> None:
        self._s.setValue("data/download_dir", path)

    # -- judging --------------------------------------------------------------------------------
    @property
    def annotate_campaign(self) -> str:
        """The campaign the judging screen showed last."""
        return self._str("annotate/campaign")

    @annotate_campaign.setter
    def annotate_campaign(self, name: str) -> None:
        self._s.setValue("annotate/campaign", name)

    @property
    def annotator(self) -> str:
        """Who judged last ("" until someone changed the operating-system user's name)."""
        return self._str("annotate/annotator")

    @annotator.setter
    def annotator(self, name: str) -> None:
        self._s.setValue("annotate/annotator", name)
