"""Data shipped inside the wheel: schemas, bundled guidelines and example patients.

``schema``, ``guidelines`` and ``examples`` are symbolic links to the repository folders of the same name, so
the wheel carries them as package data and an editable install sees the same files.
"""

from __future__ import annotations

import importlib.resources
import pathlib
from importlib.resources.abc import Traversable

__all__ = ["example_files"]

_REPO_EXAMPLES = pathlib.Path(__file__).resolve().parent.parent.parent / "examples"


def example_files() -> dict[str, Traversable]:
    """The bundled example patients' facts files: name (file name without ``.json``) -> file, sorted by name.

    Read from the package resource ``interpreter.bundled.examples``, else from the repository's ``examples/``.
    (Not named ``examples``: importing the resource folder sets that attribute of this package.)
    """
    folder: Traversable | None = None
    try:
        candidate = importlib.resources.files("interpreter.bundled.examples")
        if candidate.is_dir():
            folder = candidate
    except (ModuleNotFoundError, TypeError, FileNotFoundError):
        pass
    if folder is None and _REPO_EXAMPLES.is_dir():
        folder = _REPO_EXAMPLES
    if folder is None:
        return {}
    found = {
        f.name.removesuffix(".json"): f for f in folder.iterdir() if f.name.endswith(".json") and f.is_file()
    }
    return dict(sorted(found.items()))
