"""Exact bootstrap totals drawn in blocks of replicates: the same draws as one big draw (written
out here), in bounded memory (B = 100,000 of a 500-patient group took ~1.2 GB at once)."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from assessment.evaluation import exact_draws
from assessment.evaluation.exact_draws import exact_totals


@pytest.mark.parametrize(("m", "b"), [(1, 7), (13, 1000), (500, 5000)])
def test_blocks_give_the_same_totals_as_one_draw(
    m: int, b: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(exact_draws, "EXACT_BLOCK", 1000)  # several blocks even here
    f = np.random.default_rng(1).normal(size=(m, 3))
    idx = np.random.default_rng(9).integers(0, m, size=(b, m))
    ref = np.stack([f[row].sum(axis=0) for row in idx])
    rng = np.random.default_rng(9)
    got = exact_totals(f, b, rng)
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12)
    # the generator is left where one draw would leave it
    after = np.random.default_rng(9)
    after.integers(0, m, size=(b, m))
    assert rng.random() == after.random()


def test_memory_stays_bounded_at_b_100000() -> None:
    f = np.ones((500, 4))
    tracemalloc.start()
    try:
        out = exact_totals(f, 100_000, np.random.default_rng(0))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert out.shape == (100_000, 4) and (out[:, 0] == 500).all()
    # the output itself (3.2 MB) plus a few 8 MiB blocks, not 3 × 400 MB
    assert peak < 60e6, peak / 1e6
