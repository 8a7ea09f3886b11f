"""The catalog of every text a neighbor or admin reads (`data/texts.es-CL.toml`)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

CATALOG_FILE = "texts.es-CL.toml"


class Texts:
    """Looks texts up by dotted key ("directory.to_confirm") and fills placeholders."""

    def __init__(self, catalog: dict[str, Any]) -> None:
        self._flat: dict[str, Any] = {}
        self._flatten("", catalog)

    @classmethod
    def from_dir(cls, data_dir: Path) -> Texts:
        with (data_dir / CATALOG_FILE).open("rb") as f:
            return cls(tomllib.load(f))

    def _flatten(self, prefix: str, table: dict[str, Any]) -> None:
        for key, value in table.items():
            self._flat[f"{prefix}{key}"] = value
            if isinstance(value, dict):
                self._flatten(f"{prefix}{key}.", value)

    def __contains__(self, key: str) -> bool:
        return key in self._flat

    def __call__(self, key: str, **values: object) -> str:
        """The text at `key` with `values` filled in; a missing key is a bug, so it raises."""
        return str(self._flat[key]).format(**values)

    def table(self, key: str) -> Any:
        """A list or table of the catalog as it is (day names, categories)."""
        return self._flat[key]
