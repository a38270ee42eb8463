"""Build the offline installation bundle: ``dist/probity-offline-<version>-linux-x86_64.tar.gz``.

Run by ``./dev.sh bundle`` (which passes the Debian package lists Qt needs). Standard library only.

The bundle holds
* ``wheelhouse/``: Probity's own wheel, built here from the repository's files, and a binary wheel
  (cp311, manylinux x86_64 up to glibc 2.36 = Debian 12) of every pinned runtime dependency and
  their dependencies, downloaded with ``pip download --only-binary=:all:``, plus pip itself (the
  target's venv is made ``--without-pip`` and bootstrapped from this wheel, so the target does not
  need Debian's python3-venv package);
* ``requirements.lock``: each wheel as ``name==version --hash=sha256:…`` (for ``--require-hashes``);
* ``debs/``: the Debian 12 packages Qt and Python need, with every dependency that a minimal
  Debian 12 system (the Essential/required packages and what they depend on) lacks, resolved by
  apt's own resolver (``apt-get -s install`` against that minimal package status, so alternatives
  and virtual packages resolve as apt would resolve them) and fetched with ``apt-get download``;
  each file is checked against the SHA-256 of the signed Debian archive index (``apt-cache show``)
  and listed in ``debs/SHA256SUMS``; ``debs/packages.txt`` names them;
* ``install.sh``, ``probity.svg`` (the desktop icon), ``BUILDINFO.json`` and ``SHA256SUMS`` (every
  file of the bundle).

The downloads (wheelhouse, debs, the setuptools wheel that builds Probity's own wheel offline) are
cached under ``--cache`` in a folder keyed by the SHA-256 of pyproject.toml's runtime dependencies,
the package lists, the target tags and the pinned pip/setuptools, so a rebuild after a code change
only rebuilds Probity's wheel and the archive. The archive is deterministic for given inputs
(sorted members, fixed owner and times).
"""

from __future__ import annotations

import argparse
import fcntl
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
PYTHON_VERSION = "3.11"
ABIS = ("cp311", "abi3", "none")
GLIBC_MAX = 36  # Debian 12 ships glibc 2.36
# pip bootstraps the target's virtual environment; setuptools builds Probity's wheel offline.
BOOTSTRAP_PIP = "pip==26.0.1"
BUILD_SETUPTOOLS = "setuptools==80.9.0"
# Bundled besides the Qt libraries: a minimal Debian 12 system has no Python interpreter.
EXTRA_ROOTS = ("python3",)


# Bump when the cached download layout or its resolution changes, to invalidate old caches.
LAYOUT = "downloads-1"


class BundleError(Exception):
    """A build step failed; the message says which and what to do."""


def say(msg: str) -> None:
    print(f"probity bundle: {msg}", file=sys.stderr, flush=True)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def run(cmd: list[str], what: str, **kwargs) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-12:])
        raise BundleError(f"{what} failed (exit {proc.returncode}):\n{tail}")
    return proc


def platform_args() -> list[str]:
    tags = [f"manylinux_2_{minor}_x86_64" for minor in range(GLIBC_MAX, 4, -1)]
    tags += ["manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64"]
    args = ["--python-version", PYTHON_VERSION, "--implementation", "cp"]
    for tag in tags:
        args += ["--platform", tag]
    for abi in ABIS:
        args += ["--abi", abi]
    return args


def project_meta() -> dict:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return data["project"]


def cache_key(meta: dict, deb_roots: list[str]) -> str:
    """Changes exactly when the downloads would: pyproject.toml's runtime pins, the package lists,
    the target tags and the bootstrap pins (not the version, the test extras or tool settings)."""
    digest = hashlib.sha256()
    for part in (
        json.dumps([meta["dependencies"], meta.get("requires-python")]).encode(),
        " ".join(sorted(deb_roots)).encode(),
        " ".join([*platform_args(), BOOTSTRAP_PIP, BUILD_SETUPTOOLS, LAYOUT]).encode(),
    ):
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()[:20]


# --- Python wheels ------------------------------------------------------------------------


def download_wheels(dest: Path, requirements: list[str]) -> None:
    req = dest / "requirements.in"
    req.write_text("\n".join(requirements) + "\n", encoding="utf-8")
    say(f"downloading {len(requirements)} pinned runtime dependencies and their dependencies")
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "-q",
            "--only-binary=:all:",
            *platform_args(),
            "-d",
            str(dest / "wheelhouse"),
            "-r",
            str(req),
        ],
        "pip download of the runtime wheels (needs PyPI at bundle time)",
    )
    req.unlink()
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "-q",
            "--only-binary=:all:",
            "--no-deps",
            "-d",
            str(dest / "build"),
            BUILD_SETUPTOOLS,
        ],
        "pip download of setuptools (to build Probity's wheel offline)",
    )


def wheel_name_version(path: Path) -> tuple[str, str]:
    """(normalised name, version) from a wheel file name (PEP 427/491)."""
    name, version = path.name.split("-")[:2]
    return re.sub(r"[-_.]+", "-", name).lower(), version


def build_app_wheel(dest: Path, build_wheels: Path) -> Path:
    """Build Probity's wheel from the repository's files (tracked + untracked, not ignored)."""
    listed = run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        "git ls-files (the bundle is built from a git checkout)",
        cwd=ROOT,
    ).stdout
    with tempfile.TemporaryDirectory(prefix="probity-src-") as tmp:
        src = Path(tmp) / "src"
        for rel in filter(None, listed.split("\0")):
            origin = ROOT / rel
            if not origin.is_file():  # deleted but not yet committed
                continue
            target = src / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(origin, target)
        say("building Probity's wheel")
        run(
            [
                sys.executable,
                "-m",
                "pip",
                "wheel",
                "-q",
                "--no-deps",
                "--no-index",
                "--find-links",
                str(build_wheels),
                "-w",
                str(dest),
                str(src),
            ],
            "building Probity's wheel",
            env=pip_offline_env(),
        )
    wheels = sorted(dest.glob("probity-*.whl"))
    if len(wheels) != 1:
        raise BundleError(f"expected one Probity wheel in {dest}, found {len(wheels)}")
    return wheels[0]


def pip_offline_env() -> dict[str, str]:
    """Environment without pip configuration, so only the given command-line sources count."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull
    return env


# --- Debian packages ----------------------------------------------------------------------


def parse_stanzas(text: str) -> list[dict[str, str]]:
    """deb822 stanzas (dpkg status, apt-cache show) as dicts; continuation lines are joined."""
    stanzas = []
    for block in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        key = None
        for line in block.splitlines():
            if line[:1] in (" ", "\t") and key:
                fields[key] += "\n" + line
            elif ":" in line:
                key, _, value = line.partition(":")
                fields[key] = value.strip()
        if fields.get("Package"):
            fields["_raw"] = block.strip()
            stanzas.append(fields)
    return stanzas


def minimal_status(status_text: str) -> str:
    """The dpkg status of a minimal Debian system: Essential/required packages + their deps."""
    installed = {
        s["Package"]: s
        for s in parse_stanzas(status_text)
        if s.get("Status") == "install ok installed"
    }
    provides: dict[str, list[str]] = {}
    for name, s in installed.items():
        for item in filter(None, (p.strip() for p in s.get("Provides", "").split(","))):
            provides.setdefault(item.split()[0], []).append(name)
    todo = [
        n
        for n, s in installed.items()
        if s.get("Essential") == "yes" or s.get("Priority") == "required"
    ]
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for field in ("Pre-Depends", "Depends"):
            for group in filter(None, installed[name].get(field, "").split(",")):
                for alt in group.split("|"):
                    dep = alt.strip().split()[0].split(":")[0]
                    found = [dep] if dep in installed else provides.get(dep, [])
                    if found:
                        todo.extend(found)
                        break
    return "\n\n".join(installed[n]["_raw"] for n in sorted(seen)) + "\n"


def resolve_debs(roots: list[str], workdir: Path) -> list[tuple[str, str]]:
    """[(package, version)] apt would install on a minimal Debian 12 for ``roots``."""
    status = workdir / "minimal-status"
    status.write_text(
        minimal_status(Path("/var/lib/dpkg/status").read_text(encoding="utf-8")), encoding="utf-8"
    )
    say(f"resolving {len(roots)} Debian packages against a minimal Debian 12 system")
    proc = run(
        [
            "apt-get",
            "-s",
            "-q",
            "-o",
            f"Dir::State::status={status}",
            "-o",
            "Debug::NoLocking=1",
            "install",
            "--no-install-recommends",
            *roots,
        ],
        "apt-get -s install (resolving the Debian packages)",
        env=dict(os.environ, LC_ALL="C"),
    )
    found = re.findall(r"^Inst (\S+) \((\S+) ", proc.stdout, re.M)
    if not found:
        raise BundleError("apt resolved no packages to bundle: is this Debian 12 with apt lists?")
    return sorted(set(found))


def download_debs(pkgs: list[tuple[str, str]], dest: Path) -> None:
    debs = dest / "debs"
    debs.mkdir(parents=True)
    specs = [f"{name}={version}" for name, version in pkgs]
    say(f"downloading {len(specs)} Debian packages with apt-get download")
    try:
        run(["apt-get", "download", "-q", *specs], "apt-get download", cwd=debs)
    except BundleError as exc:
        raise BundleError(
            f"{exc}\nThe apt package lists may be out of date: run `apt-get update` and try again."
        ) from None
    shown = run(["apt-cache", "show", "--no-all-versions", *specs], "apt-cache show").stdout
    expected = {}
    for s in parse_stanzas(shown):
        expected.setdefault((s["Package"], s["Version"]), (s["SHA256"], Path(s["Filename"]).name))
    sums, listing = [], []
    for name, version in pkgs:
        sha, filename = expected[(name, version)]
        matches = [p for p in debs.glob(f"{name}_*.deb") if p.name.split("_")[0] == name]
        if len(matches) != 1:
            raise BundleError(f"apt-get download left {len(matches)} files for {name}")
        got = sha256_file(matches[0])
        if got != sha:
            raise BundleError(f"{matches[0].name}: SHA-256 differs from the Debian archive index")
        sums.append(f"{sha}  {matches[0].name}")
        listing.append(f"{name} {version} {matches[0].name}")
    (debs / "SHA256SUMS").write_text("\n".join(sorted(sums)) + "\n", encoding="utf-8")
    (debs / "packages.txt").write_text("\n".join(listing) + "\n", encoding="utf-8")


# --- the cached download set --------------------------------------------------------------


def write_sums(folder: Path, name: str = "SHA256SUMS") -> None:
    lines = [
        f"{sha256_file(p)}  {p.relative_to(folder).as_posix()}"
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != name
    ]
    (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")


def verify_sums(folder: Path, name: str = "SHA256SUMS") -> bool:
    sums = folder / name
    if not sums.is_file():
        return False
    listed = {}
    for line in sums.read_text(encoding="utf-8").splitlines():
        sha, _, rel = line.partition("  ")
        listed[rel] = sha
    present = {
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and p.name != name
    }
    return present == set(listed) and all(sha256_file(folder / r) == s for r, s in listed.items())


def downloads(cache: Path, key: str, requirements: list[str], deb_roots: list[str]) -> Path:
    """The cached wheelhouse + debs for ``key``; downloaded when missing or damaged.

    Builds running at the same time (two test runs) wait for each other on ``cache/.lock``."""
    cache.mkdir(parents=True, exist_ok=True)
    with (cache / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _downloads_locked(cache, key, requirements, deb_roots)


def _downloads_locked(cache: Path, key: str, requirements: list[str], deb_roots: list[str]) -> Path:
    done = cache / key
    if verify_sums(done, ".complete"):
        say(f"using cached downloads {done}")
        return done
    shutil.rmtree(done, ignore_errors=True)
    work = Path(tempfile.mkdtemp(prefix=f"{key}.", dir=cache))
    try:
        download_wheels(work, [*requirements, BOOTSTRAP_PIP])
        download_debs(resolve_debs(deb_roots, work), work)
        (work / "minimal-status").unlink()
        write_sums(work, ".complete")
        work.rename(done)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for old in cache.iterdir():  # keep only the current key
        if old.is_dir() and old.name != key:
            shutil.rmtree(old, ignore_errors=True)
    return done


# --- the archive --------------------------------------------------------------------------


def lock_lines(wheels: list[Path]) -> list[str]:
    lines = []
    for wheel in sorted(wheels, key=lambda p: wheel_name_version(p)[0]):
        name, version = wheel_name_version(wheel)
        lines.append(f"{name}=={version} --hash=sha256:{sha256_file(wheel)}")
    return lines


def add_bytes(tar: tarfile.TarFile, arcname: str, data: bytes, mode: int, mtime: int) -> None:
    info = tarfile.TarInfo(arcname)
    info.size, info.mode, info.mtime = len(data), mode, mtime
    tar.addfile(info, io.BytesIO(data))


def build(out: Path, cache: Path, qt_libs: list[str]) -> Path:
    meta = project_meta()
    version = meta["version"]
    deb_roots = sorted(set(qt_libs) | set(EXTRA_ROOTS))
    key = cache_key(meta, deb_roots)
    dl = downloads(cache, key, list(meta["dependencies"]), deb_roots)
    top = f"probity-offline-{version}-linux-x86_64"
    mtime = int(
        os.environ.get("SOURCE_DATE_EPOCH")
        or run(["git", "log", "-1", "--format=%ct"], "git log", cwd=ROOT).stdout.strip()
        or 0
    )
    with tempfile.TemporaryDirectory(prefix="probity-bundle-") as tmp:
        app = build_app_wheel(Path(tmp), dl / "build")
        files: dict[str, Path] = {f"wheelhouse/{app.name}": app}
        for p in sorted((dl / "wheelhouse").glob("*.whl")):
            files[f"wheelhouse/{p.name}"] = p
        for p in sorted((dl / "debs").iterdir()):
            files[f"debs/{p.name}"] = p
        files["install.sh"] = HERE / "install.sh"
        files["probity.svg"] = ROOT / "resources" / "icons" / "probity.svg"
        generated: dict[str, bytes] = {
            "requirements.lock": (
                "# Every wheel in wheelhouse/, installed with pip --no-index --require-hashes\n"
                + "\n".join(lock_lines([p for a, p in files.items() if a.endswith(".whl")]))
                + "\n"
            ).encode(),
            "probity-version": f"{version}\n".encode(),
            "system-packages": (" ".join(sorted(qt_libs)) + "\n").encode(),
            "BUILDINFO.json": json.dumps(
                {
                    "name": "probity",
                    "version": version,
                    "target": "Debian 12 x86_64, CPython 3.11",
                    "python_tags": list(ABIS),
                    "glibc_max": f"2.{GLIBC_MAX}",
                    "bootstrap_pip": BOOTSTRAP_PIP,
                    "system_packages": sorted(qt_libs),
                    "download_key": key,
                },
                indent=2,
            ).encode()
            + b"\n",
        }
        sums = [f"{hashlib.sha256(d).hexdigest()}  {a}" for a, d in generated.items()]
        sums += [f"{sha256_file(p)}  {a}" for a, p in files.items()]
        generated["SHA256SUMS"] = ("\n".join(sorted(sums, key=lambda s: s[66:])) + "\n").encode()
        out.mkdir(parents=True, exist_ok=True)
        archive = out / f"{top}.tar.gz"
        partial = archive.with_name(archive.name + ".partial")
        say(f"writing {archive}")
        with (
            partial.open("wb") as raw,
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=6, mtime=mtime) as gz,
            tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar,
        ):
            add_dir(tar, top, mtime)
            for sub in ("debs", "wheelhouse"):
                add_dir(tar, f"{top}/{sub}", mtime)
            for arcname in sorted({*generated, *files}):
                if arcname in generated:
                    add_bytes(tar, f"{top}/{arcname}", generated[arcname], 0o644, mtime)
                else:
                    path = files[arcname]
                    mode = 0o755 if arcname == "install.sh" else 0o644
                    info = tarfile.TarInfo(f"{top}/{arcname}")
                    info.size, info.mode, info.mtime = path.stat().st_size, mode, mtime
                    with path.open("rb") as fh:
                        tar.addfile(info, fh)
        partial.replace(archive)
    (out / "SHA256SUMS").write_text(f"{sha256_file(archive)}  {archive.name}\n", encoding="utf-8")
    return archive


def add_dir(tar: tarfile.TarFile, arcname: str, mtime: int) -> None:
    info = tarfile.TarInfo(arcname)
    info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, mtime
    tar.addfile(info)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--out", type=Path, default=ROOT / "dist", help="output folder (dist/)")
    parser.add_argument(
        "--cache",
        type=Path,
        default=ROOT / "build" / "bundle-cache",
        help="download cache (build/bundle-cache)",
    )
    parser.add_argument(
        "--system-packages",
        required=True,
        help="space-separated Debian packages Qt needs (dev.sh passes them)",
    )
    args = parser.parse_args(argv)
    try:
        archive = build(args.out.resolve(), args.cache.resolve(), args.system_packages.split())
    except BundleError as exc:
        say(f"error: {exc}")
        return 1
    size = archive.stat().st_size / 1e6
    say(f"done: {archive} ({size:.1f} MB) and {archive.parent / 'SHA256SUMS'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
