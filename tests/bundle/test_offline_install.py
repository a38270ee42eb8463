"""The offline bundle: ``./dev.sh bundle`` builds it, ``install.sh`` installs it with no network.

One module-scoped build (downloads are cached by scripts/bundle/build_bundle.py under
build/bundle-cache, keyed by pyproject.toml, so only the first build on a machine needs PyPI and
the Debian mirror), then, each inside a network namespace without interfaces (``unshare -n``):

1. a root install into ``HOME/.local`` (``--prefix``), then the installed ``probity --selftest``,
   ``probity judge`` on the example (same output as the source tree's) and ``probity evaluate`` on a
   small CSV (overall AUROC equal to scikit-learn's on the same file);
2. the same prefix handed to an unprivileged user (``nobody``) who re-runs ``install.sh`` with the
   default prefix (``~/.local``): a user-level upgrade in place that keeps the config folder;
3. refusals: a changed file, an added file, and missing Debian packages for a non-root user
   (simulated by a ``dpkg-query`` that reports one package missing) and for root (a ``dpkg`` that
   records what it was asked to install).

Where ``unshare -n`` is unavailable (not root), every step runs with the package index unreachable
instead (PIP_INDEX_URL pointing at a closed local port), and the test reports it in its output.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
BASE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
NOBODY = 65534
UNREACHABLE_INDEX = "http://127.0.0.1:9/simple"


def _can_unshare() -> bool:
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0


OFFLINE_NS = _can_unshare()


def offline(
    cmd: list[str],
    *,
    home: Path,
    user: int | None = None,
    path: str = BASE_PATH,
    timeout: int = 900,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``cmd`` with no network (or, without unshare, no package index), a clean environment."""
    env = {
        "PATH": path,
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "PROBITY_CONFIG_DIR": str(home / ".config" / "probity"),
    }
    prefix: list[str] = []
    if OFFLINE_NS:
        prefix = ["unshare", "-n"]
        if user is not None:
            prefix += ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups"]
    else:
        env.update(PIP_INDEX_URL=UNREACHABLE_INDEX, PIP_NO_INDEX="1")
    return subprocess.run(
        [*prefix, "env", "-i", *(f"{k}={v}" for k, v in env.items()), *cmd],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
    )


def ok(proc: subprocess.CompletedProcess[str], what: str) -> str:
    assert proc.returncode == 0, (
        f"{what} failed with exit code {proc.returncode}\n--- stdout\n{proc.stdout}\n"
        f"--- stderr\n{proc.stderr}"
    )
    return proc.stdout


@pytest.fixture(scope="module")
def work() -> Iterator[Path]:
    """A world-traversable scratch folder (the unprivileged user must reach the bundle)."""
    folder = Path(tempfile.mkdtemp(prefix="probity-bundle-test-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def bundle(work: Path) -> Path:
    """Build with ./dev.sh bundle, check the outer SHA256SUMS, unpack; the bundle's folder."""
    dist = work / "dist"
    proc = subprocess.run(
        ["./dev.sh", "bundle", "--out", str(dist)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    ok(proc, "./dev.sh bundle (the first build on a machine needs PyPI and apt)")
    archives = sorted(dist.glob("probity-offline-*-linux-x86_64.tar.gz"))
    assert len(archives) == 1, f"expected one archive in {dist}: {sorted(dist.iterdir())}"
    ok(
        subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=dist, capture_output=True, text=True),
        "sha256sum -c SHA256SUMS beside the archive",
    )
    with tarfile.open(archives[0]) as tar:
        names = tar.getnames()
        tops = {n.split("/", 1)[0] for n in names}
        assert tops == {archives[0].name.removesuffix(".tar.gz")}, tops
        tar.extractall(work / "unpacked", filter="data")
    archives[0].unlink()  # 300 MB: not needed any more
    folder = work / "unpacked" / tops.pop()
    for sub in (folder, folder / "wheelhouse", folder / "debs"):
        sub.chmod(0o755)
    return folder


def _small_csv(path: Path) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(14)
    n = 400
    sex = rng.choice(["F", "M"], size=n)
    age = rng.integers(20, 90, size=n)
    logit = -1.0 + 0.03 * (age - 55) + 0.4 * (sex == "M")
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    score = np.clip(1 / (1 + np.exp(-(logit + rng.normal(0, 0.8, n)))), 0.0, 1.0)
    lines = ["outcome,risk,sex,age"]
    lines += [f"{y[i]},{score[i]:.6f},{sex[i]},{age[i]}" for i in range(n)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return y, np.round(score, 6)


def test_offline_install_upgrade_and_refusals(bundle: Path, work: Path) -> None:
    if not OFFLINE_NS:
        print(f"note: unshare -n unavailable: package index pointed at {UNREACHABLE_INDEX}")
    home = work / "home"
    (home / ".config" / "probity").mkdir(parents=True)
    prefix = home / ".local"
    launcher = prefix / "bin" / "probity"

    # 1. root install with no network
    out = ok(
        offline([str(bundle / "install.sh"), "--prefix", str(prefix)], home=home),
        "install.sh as root",
    )
    assert "probity: selftest passed" in out, out
    # On a machine that already has Qt's libraries: "all N present"; on a fresh one the root install
    # puts the missing bundled .debs in with dpkg (CI's machine may be either).
    installed = r"system libraries: all \d+ present|installing \d+ Debian packages \(missing: "
    assert re.search(installed, out), out
    lib = prefix / "lib" / "probity"
    first = os.readlink(lib / "current")
    assert [p.name for p in lib.glob("app-*")] == [first]

    selftest = ok(offline([str(launcher), "--selftest"], home=home), "probity --selftest")
    assert "selftest passed" in selftest

    example = REPO / "resources" / "examples" / "complete.probity"
    shutil.copy(example, work / "complete.probity")
    judged = ok(
        offline([str(launcher), "judge", str(work / "complete.probity")], home=home),
        "probity judge",
    )
    source = subprocess.run(
        [sys.executable, "main.py", "judge", str(example)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert judged == ok(source, "judge from the source tree")
    assert "Overall risk of bias:" in judged

    y, score = _small_csv(work / "small.csv")
    result = work / "result.json"
    evaluated = ok(
        offline(
            [
                str(launcher),
                "evaluate",
                str(work / "small.csv"),
                "--label",
                "outcome",
                "--score",
                "risk",
                "--group",
                "sex",
                "--bin",
                "age=40,60",
                "--group",
                "age",
                "--bootstrap",
                "200",
                "--json",
                str(result),
            ],
            home=home,
        ),
        "probity evaluate",
    )
    assert "sex" in evaluated
    doc = json.loads(result.read_text(encoding="utf-8"))
    assert doc["schema"] == "probity-evaluation/1"
    assert doc["overall"]["n"] == len(y)
    auroc = doc["overall"]["metrics"]["auroc"]["value"]
    assert auroc == pytest.approx(roc_auc_score(y, score), abs=1e-9)

    desktop = (prefix / "share" / "applications" / "probity.desktop").read_text()
    assert f'Exec="{launcher}" %f' in desktop
    icon = prefix / "share" / "icons" / "hicolor" / "scalable" / "apps" / "probity.svg"
    assert f"Icon={icon}" in desktop and icon.read_bytes().startswith(b"<?xml")

    # 2. the unprivileged owner of the home folder re-runs it (default prefix ~/.local)
    keep = home / ".config" / "probity" / "identities" / "reviewer.p12"
    keep.parent.mkdir(parents=True, exist_ok=True)
    keep.write_bytes(b"the reviewer's key stays")
    user = NOBODY if OFFLINE_NS else None
    if user is not None:
        subprocess.run(["chown", "-R", f"{user}:{user}", str(home)], check=True)
    out = ok(
        offline([str(bundle / "install.sh")], home=home, user=user),
        "install.sh re-run by the unprivileged user",
    )
    assert "probity: selftest passed" in out, out
    second = os.readlink(lib / "current")
    assert second != first and [p.name for p in lib.glob("app-*")] == [second]
    assert keep.read_bytes() == b"the reviewer's key stays"
    ok(offline([str(launcher), "--version"], home=home, user=user), "probity --version")

    # 3a. a changed file and an added file are refused before anything is installed
    icon_in_bundle = bundle / "probity.svg"
    original = icon_in_bundle.read_bytes()
    icon_in_bundle.write_bytes(original + b"\n")
    refused = offline([str(bundle / "install.sh"), "--prefix", str(work / "p2")], home=home)
    icon_in_bundle.write_bytes(original)
    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines() == [
        "probity install: error: checksum check failed (probity.svg: FAILED): the bundle is "
        "damaged or was altered; copy it again and check it with 'sha256sum -c SHA256SUMS'."
    ]
    planted = bundle / "wheelhouse" / "evil-1.0-py3-none-any.whl"
    planted.write_bytes(b"PK")
    refused = offline([str(bundle / "install.sh"), "--prefix", str(work / "p2")], home=home)
    planted.unlink()
    assert refused.returncode == 1
    assert "unexpected file 'wheelhouse/evil-1.0-py3-none-any.whl'" in refused.stderr
    assert not (work / "p2").exists()

    # 3b. Debian packages missing: a user gets the one sudo line and nothing is installed; root
    # gets `dpkg -i` of exactly the bundled files of the missing packages (a recording fake dpkg)
    fake = work / "fakebin"
    fake.mkdir()
    real = shutil.which("dpkg-query", path=BASE_PATH)
    (fake / "dpkg-query").write_text(
        "#!/bin/sh\n"
        'for a; do last="$a"; done\n'
        'case "$last" in libxcb-cursor0|libxkbcommon-x11-0) exit 1 ;; esac\n'
        f'exec {real} "$@"\n'
    )
    (fake / "dpkg").write_text(f'#!/bin/sh\necho "$@" > {work}/dpkg-args\n')
    for f in fake.iterdir():
        f.chmod(0o755)
    fake_path = f"{fake}:{BASE_PATH}"
    missing = ["libxcb-cursor0", "libxkbcommon-x11-0"]
    install_p3 = [str(bundle / "install.sh"), "--prefix", str(work / "p3")]
    if user is not None or os.geteuid() != 0:
        refused = offline(install_p3, home=home, user=user, path=fake_path)
        assert refused.returncode == 1, refused.stdout + refused.stderr
        assert f"these Debian packages are missing: {' '.join(missing)}" in refused.stdout
        sudo = [line for line in refused.stdout.splitlines() if line.startswith("sudo dpkg -i ")]
        assert len(sudo) == 1, refused.stdout
        assert sorted(Path(p).name.split("_")[0] for p in sudo[0].split()[3:]) == missing
        assert not (work / "p3").exists()
    if os.geteuid() == 0:
        as_root = offline(install_p3, home=home, path=fake_path)
        assert as_root.returncode == 1, as_root.stdout + as_root.stderr
        args = (work / "dpkg-args").read_text().split()
        assert args[0] == "-i"
        debs = [Path(p) for p in args[1:]]
        assert sorted(p.name.split("_")[0] for p in debs) == missing
        listed = (bundle / "debs" / "SHA256SUMS").read_text()
        for deb in debs:
            assert f"{hashlib.sha256(deb.read_bytes()).hexdigest()}  {deb.name}" in listed
        # the fake dpkg installed nothing, so the installer stops instead of going on
        assert "libxcb-cursor0 is still not installed after dpkg -i" in as_root.stderr
        assert not (work / "p3" / "lib").exists()
