"""Cluster-robust paired statistics (several encounters per patient): against the formulas
written here from the papers (Obuchowski 1997; the ratio estimator of Obuchowski 1998 with
Tango's score interval; Durkalski et al. 2003), the patient bootstrap against patients resampled
here, the fewer-than-20-patients rule end to end, and the coverage on clustered data."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import brentq
from scipy.special import expit, ndtr
from scipy.stats import chi2
from sklearn.metrics import roc_auc_score
from statsmodels.stats.contingency_tables import mcnemar

import main
from assessment.compare import paired as pr
from assessment.compare import paired_clustered as pc
from assessment.compare.paired_bootstrap import ModelRows, paired_bootstrap
from assessment.evaluation import clusters
from assessment.evaluation.metrics import Grouping, SortedScores

Z = 1.959963984540054
T = 0.3


def _cohort(
    rng: np.random.Generator, n_pat: int, sd_model: float = 2.0, sd_patient: float = 1.5
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Patients with 1–6 encounters; a shared patient effect on the outcome and, per model, a
    patient-level error (each model misjudges some patients on every encounter)."""
    m = rng.integers(1, 7, n_pat)
    pid = np.repeat(np.arange(n_pat), m)
    n = pid.size
    lp = -1.2 + rng.normal(0, sd_patient, n_pat)[pid] + 0.8 * rng.normal(size=n)
    y = rng.random(n) < expit(lp)
    pa = expit(lp + rng.normal(0, sd_model, n_pat)[pid] + rng.normal(0, 0.3, n))
    pb = expit(0.6 * lp + rng.normal(0, sd_model, n_pat)[pid] + rng.normal(0, 0.3, n))
    return pid, y, pa, pb


def _grouped(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A clustered cohort whose encounters fall into two groups (a patient can be in both),
    scores rounded to 0.05 so that there are ties."""
    rng = np.random.default_rng(seed)
    pid, y, pa, pb = _cohort(rng, 90, 1.0, 1.0)
    codes = (rng.random(y.size) < 0.4).astype(np.intp)
    return pid, y, np.round(pa / 0.05) * 0.05, np.round(pb / 0.05) * 0.05, codes


def _placements(s: np.ndarray, y: np.ndarray) -> np.ndarray:
    """DeLong's structural components by comparing every event with every non-event."""
    pos, neg = s[y], s[~y]
    cmp = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    out = np.empty(s.size)
    out[y] = cmp.mean(axis=1)
    out[~y] = cmp.mean(axis=0)
    return out


def _reference_auroc(
    pid: np.ndarray, y: np.ndarray, sa: np.ndarray, sb: np.ndarray
) -> tuple[float, float]:
    """AUROC_a − AUROC_b and its variance: Obuchowski's (1997) clustered variance of the
    difference with S10, S01, S11 of the difference's events' and non-events' terms per patient
    (ψ_k = Σ_events in k (V10 − θ)/M + Σ_non-events in k (V01 − θ)/N), floored at the paired
    DeLong variance Var(V10_a − V10_b)/M + Var(V01_a − V01_b)/N."""
    va, vb = _placements(sa, y), _placements(sb, y)
    ta, tb = va[y].mean(), vb[y].mean()
    m, n = y.sum(), (~y).sum()
    patients = np.unique(pid)
    ea = np.zeros(patients.size)  # the patient's events' term of ψ_a − ψ_b
    eb = np.zeros(patients.size)  # its non-events' term
    for i, p in enumerate(patients):
        r = pid == p
        for arr, theta, sign in ((va, ta, 1.0), (vb, tb, -1.0)):
            ea[i] += sign * (arr[r & y] - theta).sum() / m
            eb[i] += sign * (arr[r & ~y] - theta).sum() / n
    # Obuchowski (1997): I10/(I10 − 1), I01/(I01 − 1) and I/(I − 1) on S10, S01, S11
    i10 = np.array([np.any(y[pid == p]) for p in patients]).sum()
    i01 = np.array([np.any(~y[pid == p]) for p in patients]).sum()
    k = patients.size
    var_c = float(i10 / (i10 - 1) * np.sum(ea**2) + i01 / (i01 - 1) * np.sum(eb**2)
                  + 2 * k / (k - 1) * np.sum(ea * eb))
    var_d = np.var(va[y] - vb[y], ddof=1) / m + np.var(va[~y] - vb[~y], ddof=1) / n
    return ta - tb, max(var_c, var_d)


def test_clustered_auroc_difference_matches_obuchowski_written_here() -> None:
    pid, y, pa, pb, codes = _grouped(3)
    gp = Grouping("g", codes, ("a", "b"), ("g",))
    n_pos = np.bincount(codes, weights=y, minlength=2)
    n_neg = np.bincount(codes, minlength=2) - n_pos
    pa_ = pr.paired_auroc(gp, [SortedScores.build(pa, y), SortedScores.build(pb, y)], y,
                          n_pos, n_neg)
    u = clusters.units(codes, 2, pid)
    d, var, lo, hi, p = pc.auroc_difference(pa_, 0, 1, y, u, 0.95)
    for g in range(2):
        r = codes == g
        ref_d, ref_var = _reference_auroc(pid[r], y[r], pa[r], pb[r])
        se = np.sqrt(ref_var)
        assert d[g] == pytest.approx(ref_d, abs=1e-12)
        assert var[g] == pytest.approx(ref_var, rel=1e-9, abs=1e-15)
        assert lo[g] == pytest.approx(ref_d - Z * se, abs=1e-9)
        assert hi[g] == pytest.approx(ref_d + Z * se, abs=1e-9)
        assert p[g] == pytest.approx(2 * ndtr(-abs(ref_d) / se), abs=1e-9)


def _tango_z(b: float, c: float, n: float, delta: float) -> float:
    """Tango's (1998) score statistic, the restricted MLE of p21 as the positive root of
    2n·p² + (−b − c + (2n − b + c)Δ)·p − cΔ(1 − Δ) = 0 (eq. 3 of the paper)."""
    roots = np.roots([2 * n, -b - c + (2 * n - b + c) * delta, -c * delta * (1 - delta)])
    p21 = float(max(r.real for r in roots))
    return (b - c - n * delta) / np.sqrt(n * (2 * p21 + delta * (1 - delta)))


def _reference_proportion(
    pid: np.ndarray, fa: np.ndarray, fb: np.ndarray
) -> tuple[float, float, float, float]:
    """Difference, Tango limits on the counts ÷ the design effect (ratio-estimator variance over
    the patients / unclustered variance, ≥ 1), Durkalski's clustered McNemar p."""
    patients = np.unique(pid)
    x = np.array([np.sum(fa[pid == p] & ~fb[pid == p]) - np.sum(fb[pid == p] & ~fa[pid == p])
                  for p in patients], dtype=float)
    nk = np.array([np.sum(pid == p) for p in patients], dtype=float)
    b, c, n = float(np.sum(fa & ~fb)), float(np.sum(fb & ~fa)), float(fa.size)
    d = (b - c) / n
    k = patients.size
    var_c = k / (k - 1) * np.sum((x - d * nk) ** 2) / n**2
    var_b = ((b + c) / n - d * d) / n
    deff = max(var_c / var_b, 1.0)
    be, ce, ne = b / deff, c / deff, n / deff
    lo = brentq(lambda t: _tango_z(be, ce, ne, t) - Z, -1 + 1e-12, d, xtol=1e-15)
    hi = brentq(lambda t: _tango_z(be, ce, ne, t) + Z, d, 1 - 1e-12, xtol=1e-15)
    p = chi2.sf(x.sum() ** 2 / np.sum(x * x), 1)
    return d, lo, hi, float(p)


def test_clustered_paired_proportions_match_the_formulas_written_here() -> None:
    pid, y, pa, pb, codes = _grouped(5)
    fa, fb = pa >= T, pb >= T
    u = clusters.units(codes, 2, pid)
    for rows in (y, ~y):
        d, lo, hi, p, deff, _single = pc.proportion_difference(u, 2, rows, fa, fb, 0.95)
        for g in range(2):
            r = rows & (codes == g)
            ref = _reference_proportion(pid[r], fa[r], fb[r])
            assert d[g] == pytest.approx(ref[0], abs=1e-12)
            assert lo[g] == pytest.approx(ref[1], abs=1e-9)
            assert hi[g] == pytest.approx(ref[2], abs=1e-9)
            assert p[g] == pytest.approx(ref[3], abs=1e-9)
        assert (deff >= 1).all() and (deff > 1).any()


def test_one_encounter_per_patient_is_the_unclustered_method_exactly() -> None:
    """Every patient with one event (non-event) in the group: design effect exactly 1 and
    McNemar's exact test, as the README says (not n/(n − 1) and the uncorrected χ²)."""
    rng = np.random.default_rng(8)
    n = 300
    fa, fb = rng.random(n) < 0.4, rng.random(n) < 0.3
    fb[:12] = fa[:12] = False
    fa[:3] = True  # b − c small: exact and χ² p-values differ clearly
    u = clusters.units(np.zeros(n, dtype=np.intp), 1, np.arange(n))
    d, lo, hi, p, deff, single = pc.proportion_difference(u, 1, np.ones(n, bool), fa, fb, 0.95)
    table = [[np.sum(fa & fb), np.sum(fa & ~fb)], [np.sum(~fa & fb), np.sum(~fa & ~fb)]]
    exact = mcnemar(table, exact=True).pvalue
    assert p[0] == pytest.approx(exact, abs=1e-12)
    assert exact != pytest.approx(mcnemar(table, exact=False, correction=False).pvalue,
                                  rel=0.1)
    assert deff[0] == 1.0 and single[0]
    b, c = float(np.sum(fa & ~fb)), float(np.sum(fb & ~fa))
    ref_lo = brentq(lambda t: _tango_z(b, c, n, t) - Z, -1 + 1e-12, d[0], xtol=1e-15)
    ref_hi = brentq(lambda t: _tango_z(b, c, n, t) + Z, d[0], 1 - 1e-12, xtol=1e-15)
    assert lo[0] == pytest.approx(ref_lo, abs=1e-9) and hi[0] == pytest.approx(ref_hi, abs=1e-9)
    # a patient with many non-events but one event: TPR still rests on single events
    pid = np.repeat(np.arange(150), 2)
    y = np.tile([True, False], 150)
    u2 = clusters.units(np.zeros(n, dtype=np.intp), 1, pid)
    *_r, single_pos = pc.proportion_difference(u2, 1, y, fa, fb, 0.95)
    assert single_pos[0]
    *_r, single_all = pc.proportion_difference(u2, 1, np.ones(n, bool), fa, fb, 0.95)
    assert not single_all[0]


def test_durkalski_statistic_with_singletons_is_the_uncorrected_chi_square() -> None:
    rng = np.random.default_rng(8)
    n = 300
    fa, fb = rng.random(n) < 0.4, rng.random(n) < 0.3
    u = clusters.units(np.zeros(n, dtype=np.intp), 1, np.arange(n))
    p = pc.mcnemar_clustered((fa & ~fb).astype(float) - (fb & ~fa), u, 1)
    table = [[np.sum(fa & fb), np.sum(fa & ~fb)], [np.sum(~fa & fb), np.sum(~fa & ~fb)]]
    assert p[0] == pytest.approx(mcnemar(table, exact=False, correction=False).pvalue,
                                 abs=1e-12)


@pytest.mark.parametrize("n_pat", [60, 700])  # exact patient draws; the normal limit
def test_patient_bootstrap_resamples_whole_patients(n_pat: int) -> None:
    rng = np.random.default_rng(11)
    pid, y, pa, pb = _cohort(rng, n_pat)
    models = [ModelRows(pa >= T, pa >= T, pa), ModelRows(pb >= T, pb >= T, pb)]
    b = 50
    boot = paired_bootstrap(np.zeros(y.size, dtype=np.intp), 1, y, models, T, b,
                            np.random.default_rng(4), lambda: False, cluster=pid)
    est = np.mean((pa - y) ** 2) - np.mean((pb - y) ** 2)
    assert boot.estimates["brier"][0, 0] - boot.estimates["brier"][0, 1] == pytest.approx(
        est, abs=1e-12)
    assert boot.reps is not None
    reps = boot.reps["brier"][:, 0, 0] - boot.reps["brier"][:, 0, 1]
    if n_pat > 500:  # normal limit: the replicates' spread is the clustered one
        sq = (pa - y) ** 2 - (pb - y) ** 2
        per = np.bincount(pid, weights=sq)
        cnt = np.bincount(pid).astype(float)
        k = per.size
        var = k / (k - 1) * np.sum((per - est * cnt) ** 2) / cnt.sum() ** 2
        assert np.std(reps) == pytest.approx(np.sqrt(var), rel=0.25)
        return
    draw = np.random.default_rng(4).integers(0, n_pat, size=(b, n_pat))
    for r in range(b):
        rows = np.concatenate([np.flatnonzero(pid == p) for p in draw[r]])
        ref = np.mean((pa[rows] - y[rows]) ** 2) - np.mean((pb[rows] - y[rows]) ** 2)
        assert reps[r] == pytest.approx(ref, abs=1e-9)


def test_compare_with_cluster_states_methods_and_blanks_groups_under_20_patients(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = np.random.default_rng(2)
    pid, y, pa, pb = _cohort(rng, 200, 1.0, 1.0)
    # the "rare" group holds the encounters of 12 patients only
    site = np.where(pid < 12, "rare", np.where(pid % 2 == 0, "north", "south"))
    data = tmp_path / "val.csv"
    pd.DataFrame({"y": y.astype(int), "pa": pa, "pb": pb, "site": site,
                  "patient": [f"p{i}" for i in pid]}).to_csv(data, index=False)
    base = ["compare", str(data), "--label", "y", "--model", "A=pa", "--model", "B=pb",
            "--threshold", "A=0.3", "--threshold", "B=0.3", "--group", "site",
            "--bootstrap", "200", "--quiet"]
    plain, clustered = tmp_path / "plain.json", tmp_path / "clustered.json"
    assert main.main([*base, "--json", str(plain)]) == 0
    assert main.main([*base, "--cluster", "patient", "--json", str(clustered)]) == 0
    capsys.readouterr()
    p_doc, c_doc = json.loads(plain.read_text()), json.loads(clustered.read_text())
    assert "clustering" not in p_doc["methods"] and "clustering" in c_doc["methods"]
    expected = {"auroc": pc.OBUCHOWSKI_PAIRED, "tpr": pc.TANGO_CLUSTERED,
                "fpr": pc.TANGO_CLUSTERED, "brier": pc.BOOTSTRAP_CLUSTERED,
                "ppv": pc.BOOTSTRAP_CLUSTERED, "net_benefit": pc.BOOTSTRAP_CLUSTERED}
    unclustered = {"auroc": pr.DELONG_PAIRED, "tpr": pr.TANGO, "fpr": pr.TANGO}
    for pe, ce in zip(p_doc["paired"], c_doc["paired"], strict=True):
        assert (pe["metric"], pe["group"]) == (ce["metric"], ce["group"])
        assert ce["difference"]["value"] == pytest.approx(pe["difference"]["value"], abs=1e-12)
        if ce["metric"] in expected:
            assert ce["difference"]["method"] == expected[ce["metric"]]
        if pe["metric"] in unclustered:
            assert pe["difference"]["method"] == unclustered[pe["metric"]]
        if ce["group"] == "rare":
            d = ce["difference"]
            assert d["ci_low"] is None and d["ci_high"] is None and d["p_value"] is None
            assert re.match(r"only \d+ patients( with (an event|a non-event|a positive "
                            r"prediction))? \(clusters\) in this group", d["reason"]), d
            if ce["metric"] in ("brier", "net_benefit"):
                assert d["reason"].startswith("only 12 patients (clusters) in this group")
            assert pe["difference"]["ci_low"] is not None  # unclustered: an interval
        else:
            assert ce["difference"]["ci_low"] is not None, ce
    assert any("paired differences use cluster-robust" in n for n in c_doc["notes"])


def test_fewer_than_20_counts_the_patients_behind_each_statistic(tmp_path: Path) -> None:
    """A group of 40 patients, 12 of them with an event: TPR and AUROC rest on 12 patients
    (no interval), FPR on the 40 with a non-event (an interval)."""
    rng = np.random.default_rng(4)
    pid, y, pa, pb = _cohort(rng, 240, 1.0, 1.0)
    site = np.where(pid < 40, "small", "big")
    y = np.where(pid < 40, (pid < 12) & (np.arange(pid.size) % 2 == 0), y)
    y[pid < 12] = True  # patients 0–11: every encounter an event, 12–39: none
    pd.DataFrame({"y": y.astype(int), "pa": pa, "pb": pb, "site": site,
                  "patient": [f"p{i}" for i in pid]}).to_csv(tmp_path / "v.csv", index=False)
    out = tmp_path / "c.json"
    assert main.main(["compare", str(tmp_path / "v.csv"), "--label", "y", "--model", "A=pa",
                      "--model", "B=pb", "--threshold", "A=0.3", "--threshold", "B=0.3",
                      "--group", "site", "--cluster", "patient", "--bootstrap", "0",
                      "--quiet", "--json", str(out)]) == 0
    small = {e["metric"]: e["difference"] for e in json.loads(out.read_text())["paired"]
             if e["group"] == "small"}
    for metric in ("tpr", "auroc"):
        assert small[metric]["ci_low"] is None and small[metric]["p_value"] is None
        assert small[metric]["reason"].startswith(
            "only 12 patients with an event (clusters) in this group"), small[metric]
    assert small["fpr"]["ci_low"] is not None and small["fpr"]["p_value"] is not None


@pytest.mark.slow
def test_clustered_paired_intervals_cover_where_the_unclustered_ones_do_not() -> None:
    """Patients with 1–6 encounters, a shared patient effect: the unclustered paired intervals
    under-cover, the clustered ones cover 93–97 %. True values from 400,000 patients."""
    pid, y, pa, pb = _cohort(np.random.default_rng(1), 400_000)
    fa, fb = pa >= T, pb >= T
    truth = {
        "auroc": roc_auc_score(y, pa) - roc_auc_score(y, pb),
        "tpr": fa[y].mean() - fb[y].mean(),
        "fpr": fa[~y].mean() - fb[~y].mean(),
        "brier": np.mean((pa - y) ** 2) - np.mean((pb - y) ** 2),
    }
    sims, boot_sims = 1000, 500
    hits = {k: np.zeros(2) for k in truth}
    for r in range(sims):
        rng = np.random.default_rng([7, r])
        pid, y, pa, pb = _cohort(rng, int(rng.integers(150, 700)))  # both bootstrap regimes
        n = y.size
        gp = Grouping("g", np.zeros(n, dtype=np.intp), ("all",), ("g",))
        n_pos = np.array([y.sum()], float)
        paired = pr.paired_auroc(gp, [SortedScores.build(pa, y), SortedScores.build(pb, y)],
                                 y, n_pos, n - n_pos)
        u = clusters.units(gp.codes, 1, pid)
        _d, _v, lo, hi, _p = paired.difference(0, 1, 0.95)
        hits["auroc"][0] += lo[0] <= truth["auroc"] <= hi[0]
        _d, _v, lo, hi, _p = pc.auroc_difference(paired, 0, 1, y, u, 0.95)
        hits["auroc"][1] += lo[0] <= truth["auroc"] <= hi[0]
        fa, fb = pa >= T, pb >= T
        for key, rows in (("tpr", y), ("fpr", ~y)):
            nn, _ka, b, c = pr.discordant(gp.codes, 1, rows, fa, fb)
            _d, lo, hi = pr.tango_interval(b, c, nn, 0.95)
            hits[key][0] += lo[0] <= truth[key] <= hi[0]
            _d, lo, hi, _p, _deff, _s = pc.proportion_difference(u, 1, rows, fa, fb, 0.95)
            hits[key][1] += lo[0] <= truth[key] <= hi[0]
        if r < boot_sims:
            models = [ModelRows(fa, fa, pa), ModelRows(fb, fb, pb)]
            for j, cl in enumerate((None, pid)):
                boot = paired_bootstrap(gp.codes, 1, y, models, T, 400,
                                        np.random.default_rng([5, r]), lambda: False, cluster=cl)
                _d, lo, hi, _p, _why = boot.difference("brier", 0, 1, 0.95)
                hits["brier"][j] += lo[0] <= truth["brier"] <= hi[0]
    cover = {k: v / (boot_sims if k == "brier" else sims) for k, v in hits.items()}
    print("coverage (unclustered, clustered):", {k: tuple(v) for k, v in cover.items()})
    for key, (plain, clustered) in cover.items():
        assert plain < 0.92, (key, plain)
        assert 0.93 <= clustered <= 0.97, (key, clustered)
