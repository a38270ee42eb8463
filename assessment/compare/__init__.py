"""Procurement comparison: several vendors' models on the same local patients.

Pure and Qt-free. Each model is evaluated by the one engine
(:func:`assessment.evaluation.engine.evaluate`); this package adds what only a comparison needs:
the join of the vendors' predictions onto the same patients (:mod:`.sources`), paired statistics
(:mod:`.paired`, :mod:`.paired_bootstrap`), clinical usefulness (:mod:`.usefulness`) and the
``probity-comparison/1`` result (:mod:`.analysis`).
"""

from __future__ import annotations

COMPARISON_FORMAT = "probity-comparison/1"
