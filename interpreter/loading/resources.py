"""Files shipped with the package: JSON schemas and bundled guidelines.

In an installed wheel they are package resources (``interpreter.bundled.<kind>``); in a source checkout
they live in the repository folder of the same name (``schema/``, ``guidelines/``).
"""

from __future__ import annotations

import importlib.resources
import pathlib
from importlib.resources.abc import Traversable

__all__ = ["read_text", "resource_path"]

_REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]


def resource_path(kind: str, name: str) -> Traversable:
    """The file ``name`` of the bundled ``kind`` (``schema`` or ``guidelines``).

    Tries the package resource ``interpreter.bundled.<kind>`` first, then ``<repo>/<kind>/``.
    Raises ``FileNotFoundError`` naming both places when neither has it.
    """
    package = f"interpreter.bundled.{kind}"
    try:
        candidate = importlib.resources.files(package).joinpath(name)
        if candidate.is_file():
            return candidate
    except (ModuleNotFoundError, TypeError, FileNotFoundError):
        pass
    repo_file = _REPO_ROOT / kind / name
    if repo_file.is_file():
        return repo_file
    raise FileNotFoundError(f"bundled file {name!r} not found in package {package} nor in {repo_file.parent}")


def read_text(kind: str, name: str) -> str:
    """The UTF-8 text of a bundled file."""
    return resource_path(kind, name).read_text(encoding="utf-8")
