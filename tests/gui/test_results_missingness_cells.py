"""Results page, Exclusions tab: every intersection cell is listed with its rows read, excluded
rows by reason and the differential-missingness flag, as stored in the result (a cell that loses
a quarter of its rows while the margins look even is flagged)."""

from __future__ import annotations

from gui.data.page import ValidationDataPage
from gui.data.table_model import RAW_ROLE
from gui.results.page import ResultsPage
from tests.assessment.evaluation.test_missingness_cells import cell_frame


def test_exclusions_tab_lists_intersection_cells(qtbot, ctx, tmp_path):
    path = tmp_path / "m.csv"
    cell_frame().drop(columns=["k"]).to_csv(path, index=False)
    data, page = ValidationDataPage(ctx), ResultsPage(ctx)
    qtbot.addWidget(data)
    qtbot.addWidget(page)
    with qtbot.waitSignal(data.table_loaded, timeout=20000):
        data.load_file(str(path))
    data.set_attributes(["g", "h"])
    data.set_intersections([("g", "h")])
    data.bootstrap_spin.setValue(0)
    with qtbot.waitSignal(page.refreshed, timeout=60000):
        data.run_evaluation()
    result = ctx.doc.evaluation.result_json()
    proxy, names = page.proxies["missingness"], page.models["missingness"].column_names()
    shown = {}
    for r in range(proxy.rowCount()):
        row = {names[c]: proxy.data(proxy.index(r, c), RAW_ROLE) for c in range(len(names))}
        shown[(row["Attribute"], row["Group"])] = row
    stored = [m for m in result["missingness"] if m["attribute"] == "g×h"]
    assert len(stored) == len(result["provenance"]["rows_by_group"]["g×h"]) >= 5
    for m in stored:
        row = shown[("g×h", m["group"])]
        assert (row["Rows read"], row["Excluded"]) == (m["rows_read"], m["excluded"])
        assert row["Flagged"] == ("flagged" if m["flagged_adjusted"] else
                                  "unadjusted only" if m["flagged"] else "")
    ax = shown[("g×h", "A×X")]
    assert ax["Flagged"] == "flagged" and ax["By reason"].startswith("missing outcome: ")
    assert shown[("g", "A")]["Flagged"] == ""
