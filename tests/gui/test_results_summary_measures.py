"""Results page, summary-measures table: the groups that set each measure, the groups left out
and the reason for a missing interval are shown as stored in the result."""

from __future__ import annotations

import numpy as np
import pandas as pd

from gui.data.page import ValidationDataPage
from gui.data.table_model import RAW_ROLE
from gui.results.page import ResultsPage


def test_summary_table_shows_set_by_left_out_and_reason(qtbot, ctx, tmp_path):
    rng = np.random.default_rng(8)
    n = 1600
    site = np.r_[rng.choice(["North", "South"], n - 12), ["Tiny"] * 12]  # Tiny: insufficient
    p = 1 / (1 + np.exp(-rng.normal(-0.8, 1.2, n)))
    y = (rng.random(n) < p).astype(int)
    path = tmp_path / "v.csv"
    pd.DataFrame({"label": y, "score": p.round(5), "site": site}).to_csv(path, index=False)
    data, page = ValidationDataPage(ctx), ResultsPage(ctx)
    qtbot.addWidget(data)
    qtbot.addWidget(page)
    with qtbot.waitSignal(data.table_loaded, timeout=20000):
        data.load_file(str(path))
    data.set_attributes(["site"])
    data.bootstrap_spin.setValue(200)
    with qtbot.waitSignal(page.refreshed, timeout=60000):
        data.run_evaluation()
    result = ctx.doc.evaluation.result_json()
    proxy, names = page.proxies["summary"], page.models["summary"].column_names()
    shown = [{names[c]: proxy.data(proxy.index(r, c), RAW_ROLE) for c in range(len(names))}
             for r in range(proxy.rowCount())]
    assert len(shown) == len(result["summary"]) == 5
    for row, s in zip(shown, result["summary"], strict=True):
        assert row["Set by"] == " vs ".join(s["set_by"]) and "Tiny" not in row["Set by"]
        assert row["Left out"].startswith("Tiny (insufficient data (n = 12 < 30")
        assert row["Reason"] == (s["reason"] or "")
