"""Files shipped with the package: JSON schemas, bundled guidelines and example patients, found in one way.

In an installed wheel (and an editable install) they are the package's data folders
``interpreter/bundled/<kind>``; in a bare source checkout, the repository folder of the same name
(``schema/``, ``guidelines/``, ``examples/``).
"""

from __future__ import annotations

import importlib.resources
import pathlib

__all__ = ["bundled_folder", "example_files", "read_text", "resource_path"]

_REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]


def bundled_folder(kind: str) -> pathlib.Path | None:
    """The folder of the bundled ``kind`` (``schema``, ``guidelines`` or ``examples``), or None.

    The package's data folder ``interpreter/bundled/<kind>`` first, then ``<repo>/<kind>/``.
    """
    try:
        found = importlib.resources.files("interpreter.bundled") / kind
        if isinstance(found, pathlib.Path) and found.is_dir():
            return found
    except (ModuleNotFoundError, TypeError):
        pass
    repo = _REPO_ROOT / kind
    return repo if repo.is_dir() else None


def resource_path(kind: str, name: str) -> pathlib.Path:
    """The file ``name`` of the bundled ``kind``; ``FileNotFoundError`` naming the places looked in."""
    folder = bundled_folder(kind)
    if folder is not None and (folder / name).is_file():
        return folder / name
    raise FileNotFoundError(
        f"bundled file {name!r} not found in interpreter/bundled/{kind} nor in {_REPO_ROOT / kind}"
    )


def read_text(kind: str, name: str) -> str:
    """The UTF-8 text of a bundled file."""
    return resource_path(kind, name).read_text(encoding="utf-8")


def example_files() -> dict[str, pathlib.Path]:
    """The bundled example patients' facts files: name (the file name without ``.json``) -> file, by name."""
    folder = bundled_folder("examples")
    if folder is None:
        return {}
    found = {
        f.name.removesuffix(".json"): f for f in folder.iterdir() if f.name.endswith(".json") and f.is_file()
    }
    return dict(sorted(found.items()))
