"""The assessment's representativeness fields (a mixin of :class:`assessment.document.Assessment`,
kept apart so the document module stays small): where the reference population came from, and
the group-label maps. Both are optional top-level keys, written only once set."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any


class RepresentationFields:
    """``reference_population_source`` (assessment.populations) and ``group_maps``
    (assessment.evaluation.group_map), read and changed through the document's undoable,
    audited ``_change``."""

    _data: dict[str, Any]
    _change: Callable[..., None]

    @property
    def reference_population_source(self) -> dict[str, Any]:
        """Where the reference population came from (assessment.populations.SOURCE_KEYS)."""
        return copy.deepcopy(self._data.get("reference_population_source") or {})

    @property
    def group_maps(self) -> dict[str, dict[str, str]]:
        """{data attribute: {data value: datasheet category}}."""
        return copy.deepcopy(self._data.get("group_maps") or {})

    def set_reference_population_source(self, source: dict[str, Any]) -> None:
        from assessment.populations import check_source

        clean = copy.deepcopy(check_source(source, "reference population source"))
        self._change(("reference_population_source",), clean)

    def set_group_maps(self, group_maps: dict[str, dict[str, str]]) -> None:
        from assessment.evaluation.group_map import check_group_map, clean_group_map

        self._change(("group_maps",), clean_group_map(check_group_map(group_maps, "group map")))
