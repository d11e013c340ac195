"""``REGISTRY``: every function of the expression language, from the registrations of the group modules.

The group modules are imported for their ``@function`` registrations; the registry lists the groups in the
order of ``_GROUPS``, each in the order of its module.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from . import arithmetic, codes, quantities, series, time
from .registry import Function, registered

__all__ = ["REGISTRY"]

#: The groups, in the registry's order.
_GROUPS = (arithmetic, quantities, time, series, codes)
_ORDER = {group.__name__: i for i, group in enumerate(_GROUPS)}

#: name -> Function; read only.
REGISTRY: Mapping[str, Function] = MappingProxyType(
    {f.name: f for f in sorted(registered().values(), key=lambda f: _ORDER[f.resolver.__module__])}
)
