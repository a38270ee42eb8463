"""Clustered patients: the cluster column through import and the CLI, and the cluster-robust
variances against their textbook formulas written out here (Obuchowski 1997 for AUROC, the
ratio-estimator variance for proportions)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from assessment.evaluation import clusters
from assessment.evaluation import intervals as iv
from assessment.evaluation.engine import evaluate
from assessment.evaluation.inputs import Attribute, EvaluationInput, Provenance
from assessment.evaluation.mapping import ColumnMapping, prepare_input
from assessment.evaluation.metrics import SortedScores, auroc_delong, build_groupings
from assessment.evaluation.spec import EvaluationSpec
from main import main as probity_main


def _data(n_patients: int = 300, per: int = 4, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = n_patients * per
    patient = np.repeat(np.arange(n_patients), per)
    u = np.repeat(rng.normal(0, 1.5, n_patients), per)
    eta = -1 + rng.normal(0, 1, n) + u
    y = rng.random(n) < 1 / (1 + np.exp(-eta))
    return pd.DataFrame({
        "pid": patient.astype(str),
        "y": y.astype(int),
        "p": 1 / (1 + np.exp(-(eta - 0.5 * u))),
        "sex": rng.choice(["F", "M"], n),
    })


def test_cluster_column_is_imported_with_missing_ids_as_their_own_patients() -> None:
    frame = _data(5, 3)
    frame.loc[[0, 1], "pid"] = None
    inp = prepare_input(frame, ColumnMapping(label="y", score="p", attributes=["sex"],
                                             cluster="pid"))
    assert inp.cluster is not None and inp.cluster.shape == (15,)
    assert inp.cluster[0] != inp.cluster[1]  # two missing ids: two patients
    assert len(set(inp.cluster[2:].tolist())) == 5  # the rest: patients 0 (1 row) … 4
    again = ColumnMapping.from_json(ColumnMapping(label="y", cluster="pid").to_json())
    assert again.cluster == "pid"


def test_obuchowski_variance_equals_the_published_formula() -> None:
    rng = np.random.default_rng(3)
    n = 240
    patient = rng.integers(0, 60, n)
    y = rng.random(n) < 0.4
    score = rng.normal(0, 1, n) + y + 0.5 * rng.normal(0, 1, 60)[patient]
    inp = EvaluationInput(y, score, None, "score", (Attribute("g", np.zeros(n, np.int32),
                          ("all",)),), Provenance("t", "0" * 64, n, n))
    gp = build_groupings(inp, ())[0]
    res = auroc_delong(gp, SortedScores.build(score, y), np.array([y.sum()]),
                       np.array([(~y).sum()]), placements=True)
    u = clusters.units(gp.codes, 1, patient)
    var = clusters.obuchowski_variance(res.placements, y, u, res.auc, np.array([y.sum()]),
                                       np.array([(~y).sum()]), 1)[0]
    # Obuchowski (1997), S10, S01, S11 and var(θ) = S10/M + S01/N + 2·S11/(M·N), written from
    # pairs directly
    pos, neg = score[y], score[~y]
    psi = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    theta = psi.mean()
    m_tot, n_tot = pos.size, neg.size
    ids = np.unique(patient)
    v10 = np.array([psi[patient[y] == k].sum() / n_tot for k in ids])
    v01 = np.array([psi[:, patient[~y] == k].sum() / m_tot for k in ids])
    m_k = np.array([np.sum(patient[y] == k) for k in ids])
    n_k = np.array([np.sum(patient[~y] == k) for k in ids])
    big_i = ids.size
    # I10, I01: the patients with an event, with a non-event (not all I patients)
    i10, i01 = int(np.sum(m_k > 0)), int(np.sum(n_k > 0))
    assert i10 < big_i and i01 < big_i  # the factors differ from I/(I − 1) here
    s10 = i10 / ((i10 - 1) * m_tot) * np.sum((v10 - m_k * theta) ** 2)
    s01 = i01 / ((i01 - 1) * n_tot) * np.sum((v01 - n_k * theta) ** 2)
    s11 = big_i / (big_i - 1) * np.sum((v10 - m_k * theta) * (v01 - n_k * theta))
    expected = s10 / m_tot + s01 / n_tot + 2 * s11 / (m_tot * n_tot)
    assert res.auc[0] == pytest.approx(theta)
    assert var == pytest.approx(expected, rel=1e-10)


def test_one_row_per_patient_changes_nothing_but_the_method() -> None:
    frame = _data(400, 1)
    mapping = ColumnMapping(label="y", score="p", attributes=["sex"])
    inp = prepare_input(frame, mapping)
    spec = EvaluationSpec(bootstrap=0)
    plain = evaluate(inp, spec)
    clustered = evaluate(replace(inp, cluster=np.arange(inp.n)), spec)
    for mid in ("tpr", "ppv", "accuracy", "balanced_accuracy", "auroc"):
        a, b = plain.overall.metrics[mid], clustered.overall.metrics[mid]
        # singletons: design effect exactly 1 (not n/(n − 1)); Obuchowski's I10/(I10 − 1),
        # I01/(I01 − 1) factors make his variance DeLong's exactly
        assert b.ci_low == pytest.approx(a.ci_low, abs=1e-12) and b.ci_high == pytest.approx(
            a.ci_high, abs=1e-12), mid
    assert "cluster-robust" in clustered.overall.metrics["tpr"].method


def test_cli_cluster_widens_intervals_of_correlated_patients(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    frame = _data(300, 5)
    src = tmp_path / "v.csv"
    frame.to_csv(src, index=False)
    outs = {}
    for name, extra in (("rows", []), ("patients", ["--cluster", "pid"])):
        out = tmp_path / f"{name}.json"
        rc = probity_main(["evaluate", str(src), "--label", "y", "--score", "p", "--group",
                           "sex", "--bootstrap", "200", "--json", str(out), "--quiet", *extra])
        assert rc == 0
        outs[name] = json.loads(out.read_text())
    capfd.readouterr()
    for mid in ("tpr", "auroc", "oe_ratio", "brier"):
        w = {k: v["overall"]["metrics"][mid]["ci_high"] - v["overall"]["metrics"][mid]["ci_low"]
             for k, v in outs.items()}
        assert w["patients"] > 1.05 * w["rows"], (mid, w)
    notes = outs["patients"]["notes"]
    assert any(n.startswith("clustered: 1,500 rows from 300 patients (pid)") for n in notes)
    assert "patients" in outs["patients"]["methods"]["clustering"]
    assert iv.bootstrap_method(200, 20240601, True) in outs["patients"]["overall"]["metrics"]["f1"][
        "method"]


@pytest.mark.parametrize("seed", range(6))
def test_units_equal_np_unique_of_group_patient_keys(seed: int) -> None:
    """Units from the patient order and a radix sort by group are exactly np.unique's units
    of the keys group·C + patient (sorted keys, inverse), with patients sorted or not."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 3000))
    size = int(rng.integers(1, 7)) if seed % 3 else 300  # wider than a byte's codes
    codes = rng.integers(0, size, n).astype(np.uint8 if size <= 256 else np.int32)
    cluster = rng.integers(0, max(1, n // int(rng.integers(1, 6))), n).astype(np.int32)
    if seed % 2:
        cluster = np.sort(cluster)
    width = int(cluster.max()) + 1
    key = codes.astype(np.int64) * width + cluster
    uniq, inv = np.unique(key, return_inverse=True)
    for by_patient in (None, clusters.patient_order(cluster)):
        u = clusters.units(codes, size, cluster, by_patient)
        assert np.array_equal(u.of_row, inv)
        assert np.array_equal(u.group, uniq // width)
        assert np.array_equal(u.cluster, uniq % width)
        assert np.array_equal(u.per_group, np.bincount(uniq // width, minlength=size))


@pytest.mark.parametrize("seed", range(4))
def test_chunked_group_sums_add_in_the_order_of_one_bincount(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The per-unit variances summed chunk by chunk are bit for bit those of one np.bincount
    over all units (the order of the additions is the same), whatever the chunk size."""
    rng = np.random.default_rng(seed)
    n = 5000
    size = 4
    codes = rng.integers(0, size, n).astype(np.uint8)
    cluster = rng.integers(0, 900, n).astype(np.int32)
    y = rng.random(n) < 0.3
    pred = rng.random(n) < 0.4
    values = rng.random(n)
    u = clusters.units(codes, size, cluster)
    uc = clusters.unit_counts(u, y, pred)
    g = u.group
    ratio = np.bincount(g, weights=uc.tp, minlength=size) / np.bincount(
        g, weights=uc.n_pos, minlength=size)
    resid = uc.tp - ratio[g] * uc.n_pos
    k = np.bincount(g, weights=(uc.n_pos > 0).astype(float), minlength=size)
    den = np.bincount(g, weights=uc.n_pos.astype(float), minlength=size)
    whole = k / (k - 1) * np.bincount(g, weights=resid * resid, minlength=size) / (den * den)
    s_u = np.bincount(u.of_row, weights=values, minlength=u.size)
    n_u = np.bincount(u.of_row, minlength=u.size).astype(float)
    mean = np.bincount(codes, weights=values, minlength=size) / np.bincount(codes, minlength=size)
    r2 = s_u - mean[g] * n_u
    k2 = np.bincount(g, minlength=size).astype(float)
    d2 = np.bincount(g, weights=n_u, minlength=size)
    whole_mean = k2 / (k2 - 1) * np.bincount(g, weights=r2 * r2, minlength=size) / (d2 * d2)
    for chunk in (1, 7, 64, 1 << 16):
        monkeypatch.setattr(clusters, "UNIT_CHUNK", chunk)
        got = clusters.ratio_variance(uc.tp, uc.n_pos, u, ratio, size)
        assert np.array_equal(got, whole), chunk
        assert np.array_equal(clusters.mean_variance(values, u, mean, size), whole_mean), chunk


@pytest.mark.parametrize(
    ("block", "steps"), [(1, 32), (5, 32), (97, 32), (1 << 16, 32), (97, 1), (97, 0)]
)
def test_bootstrap_unit_totals_equal_the_row_order_accumulation(
    block: int, steps: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Per-patient bootstrap totals from the (group, patient) row order are bit for bit those
    of intervals._blocked_unit_totals (np.add.at over each group's rows in row order), whether
    summed row by row of each patient (``MAX_STEPS``) or by np.bincount; −0.0 included."""
    rng = np.random.default_rng(block)
    n, size = 4000, 5
    codes = rng.integers(0, size, n).astype(np.uint8)
    cluster = rng.integers(0, 700, n).astype(np.int32)
    x = rng.normal(0, 1, n)

    def features(rows: np.ndarray) -> np.ndarray:
        f = np.empty((rows.size, 3))
        f[:, 0] = 1.0
        f[:, 1] = x[rows]
        f[:, 2] = np.exp(x[rows]) / 7.0
        f[:, 1][x[rows] < -1.5] = -0.0
        return f

    monkeypatch.setattr(clusters, "ROW_BLOCK", block)
    monkeypatch.setattr(clusters, "MAX_STEPS", steps)
    monkeypatch.setattr(iv, "UNIT_BLOCK", 13)
    for by_patient in (None, clusters.patient_order(cluster)):
        totals = clusters.unit_totals_by_group(codes, size, cluster, by_patient, features, 3)
        for s in range(size):
            rows = np.flatnonzero(codes == s)
            expected = iv._blocked_unit_totals(rows, features, 3, cluster[rows])
            got = totals(s, rows)
            assert np.array_equal(got, expected), (block, s)
            assert np.array_equal(np.signbit(got), np.signbit(expected))


@pytest.mark.parametrize("missing", [["?", "NA"], ["-1", "12", "007", " 5", "x"]])
def test_integer_patient_ids_get_the_codes_of_their_text(missing: list[str]) -> None:
    """Integer ids are factorised as integers, to the codes their text gets (same patients,
    first-appearance order; an id written as a missing token, e.g. -1, is a patient of its own
    per row)."""
    rng = np.random.default_rng(7)
    ids = rng.integers(-3, 40, 500)
    ids[:3] = [12, 7, 5]
    frame = pd.DataFrame({"pid": ids, "y": rng.integers(0, 2, 500), "p": rng.random(500),
                          "sex": rng.choice(["F", "M"], 500)})
    mapping = ColumnMapping(label="y", score="p", attributes=["sex"], cluster="pid",
                            missing=missing)
    as_int = prepare_input(frame, mapping).cluster
    as_text = prepare_input(frame.assign(pid=frame["pid"].astype(str)), mapping).cluster
    assert as_int is not None and as_text is not None
    assert np.array_equal(as_int, as_text)
    lone = ("-1" in missing) * np.sum(ids == -1) + ("12" in missing) * np.sum(ids == 12)
    assert int(as_int.max()) + 1 == np.unique(ids).size - ("-1" in missing) - (
        "12" in missing) + lone


@pytest.mark.parametrize("seed", range(5))
def test_dense_codes_equal_np_unique_inverse(seed: int) -> None:
    """The intersection-cell count's codes (presence table or sort) are np.unique's inverse."""
    from assessment.evaluation.mapping_steps import _dense_codes

    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 2000))
    spread = [3, n, 10 * n, 10**12, 7][seed]
    key = rng.integers(-5, spread, n).astype(np.int64)
    assert np.array_equal(_dense_codes(key), np.unique(key, return_inverse=True)[1])


@pytest.mark.parametrize("seed", range(4))
def test_design_effects_by_unit_type_equal_the_chunked_sums(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The table of unit types gives the design effects of the per-unit pass up to rounding
    (1e-13), and that pass bit for bit those of whole-array np.bincount (the ratio-estimator
    variance written here)."""
    from assessment.evaluation.metrics import confusion_counts, proportion_parts, stratum_keys

    rng = np.random.default_rng(seed)
    n, size = 6000, 6
    codes = rng.integers(0, size, n).astype(np.uint8)
    cluster = rng.integers(0, [3000, 1500, 400, 6000][seed], n).astype(np.int32)
    y = rng.random(n) < 0.3
    pred = rng.random(n) < np.where(y, 0.7, 0.2)
    inp = EvaluationInput(y, rng.random(n), None, "probability", (Attribute(
        "g", codes.astype(np.int32), tuple("abcdef")),), Provenance("t", "0" * 64, n, n))
    gp = build_groupings(inp, ())[1]
    counts = confusion_counts(gp, stratum_keys(gp, y), pred)
    u = clusters.units(gp.codes, size, cluster)
    uc = clusters.unit_counts(u, y, pred)
    got, behind = {}, {}
    for top in (10**6, 0):
        monkeypatch.setattr(clusters, "MAX_TYPE_COUNT", top)
        behind[top] = {}
        got[top] = clusters.design_effects(counts, uc, u, size, behind=behind[top])
    g = u.group
    ucf = type(uc)(*(a.astype(float) for a in (uc.n_pos, uc.n_neg, uc.tp, uc.fp)))
    for mid, (num, den, _) in proportion_parts(counts).items():
        a_u, d_u = proportion_parts(ucf)[mid][:2]
        with np.errstate(invalid="ignore", divide="ignore"):
            pm = num / den
            resid = a_u - np.nan_to_num(pm)[g] * d_u
            k = np.bincount(g, weights=(d_u > 0).astype(float), minlength=size)
            tot = np.bincount(g, weights=d_u, minlength=size)
            var = k / (k - 1) * np.bincount(g, weights=resid * resid, minlength=size) / tot**2
            var = np.where(k >= 2, var, np.nan)
            var_b = pm * (1 - pm) / den
            expected = np.maximum(np.where((var_b > 0) & np.isfinite(var), var / var_b, 1.0), 1)
        # by unit type: count × term per type, equal up to rounding; unit by unit: bit for bit
        np.testing.assert_allclose(got[10**6][mid], expected, rtol=1e-13, atol=0, err_msg=mid)
        assert np.array_equal(got[0][mid], expected), mid
        # the patients behind each statistic: the units with a nonzero denominator per group
        assert np.array_equal(behind[10**6][mid], k), mid
        assert np.array_equal(behind[0][mid], k), mid
