"""``make matrix``: the pytest suite on each supported Airflow minor release, each in its own venv.

| leg | Airflow | Python | venv |
| --- | --- | --- | --- |
| oldest supported | latest 3.2.x | 3.12 | ``.venv-3.2`` |
| newest | 3.3.x | 3.11 | ``.venv`` (the one ``make test`` uses) |
| newest Python | 3.3.x | 3.13 | ``.venv-3.3-py3.13`` |

An older release is installed the way Airflow's constraints pin it: Airflow and its dependencies as
they were published when that release was current (``--exclude-newer``), frozen, then the project's
test extras on top. Newer dependencies break older releases (3.2.2 with today's cadwyn and fastapi
cannot start its execution API). A leg whose Python is not on this machine runs on the default
``python3`` and says so. Exit status 1 if any leg's suite fails; each leg's pytest closing line is
printed.
"""

from __future__ import annotations

import glob
import shutil
import subprocess
import sys
import time
from pathlib import Path

from e2e.deployment import ROOT

# (Airflow minor, Python, venv, dependencies as published on this date: None for today's)
LEGS = [
    ("3.2", "3.12", ".venv-3.2", "2026-06-01"),
    ("3.3", "3.11", ".venv", None),
    ("3.3", "3.13", ".venv-3.3-py3.13", None),
]


def interpreter(version: str) -> str | None:
    """Return a working ``python<version>``: pyenv's install first (its shims may refuse), then PATH."""
    candidates = sorted(glob.glob(f"/root/.pyenv/versions/{version}.*/bin/python{version}"), reverse=True)
    candidates += [found for found in [shutil.which(f"python{version}")] if found]
    for candidate in candidates:
        if subprocess.run([candidate, "-c", "pass"], capture_output=True, check=False).returncode == 0:
            return candidate
    return None


def python_version(python: Path) -> str:
    out = subprocess.run(
        [str(python), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=False,
    )
    return out.stdout.strip()


def prepare(airflow: str, python_wanted: str, venv: str, as_of: str | None) -> tuple[Path, str]:
    """Create or reuse the leg's venv with the latest release of the ``airflow`` minor line."""
    target = ROOT / venv
    python = target / "bin" / "python"
    if venv == ".venv":
        return python, python_version(python)
    base = interpreter(python_wanted)
    if base is None:
        print(f"!! Python {python_wanted} is not on this machine: Airflow {airflow} runs on {sys.executable}")
        base = sys.executable
    wanted = python_version(Path(base))
    stamp = target / "matrix-leg"
    leg = f"airflow {airflow} python {wanted} as of {as_of}"
    if not python.exists() or not stamp.exists() or stamp.read_text() != leg:
        shutil.rmtree(target, ignore_errors=True)
        subprocess.run(
            [sys.executable, "-m", "uv", "venv", "--quiet", "--python", base, str(target)], check=True
        )
    major, minor = airflow.split(".")
    uv = [sys.executable, "-m", "uv", "pip", "install", "--quiet", "--python", str(python)]
    release = f"apache-airflow>={airflow},<{major}.{int(minor) + 1}"
    # uv too: the packaging tests build the sdist and wheel with the leg's own uv.
    extras = ["-e", f"{ROOT}[test]", "uv"]
    if as_of:
        subprocess.run([*uv, "--exclude-newer", as_of, release], check=True, cwd=ROOT)
        frozen = subprocess.run(
            [sys.executable, "-m", "uv", "pip", "freeze", "--python", str(python)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        constraints = target / "constraints.txt"
        constraints.write_text(
            "".join(line + "\n" for line in frozen.splitlines() if not line.startswith("-e"))
        )
        extras = ["-c", str(constraints), *extras]
    subprocess.run([*uv, release, *extras], check=True, cwd=ROOT)
    stamp.write_text(leg)
    return python, wanted


def main() -> int:
    results: list[tuple[str, str, str, float, int, str]] = []
    for airflow, python_wanted, venv, as_of in LEGS:
        started = time.monotonic()
        print(f"\n== Airflow {airflow}.x on Python {python_wanted} ({venv})", flush=True)
        try:
            python, python_used = prepare(airflow, python_wanted, venv, as_of)
        except subprocess.CalledProcessError as error:
            print(f"!! setting up {venv} failed: {error}", flush=True)
            results.append(("-", python_wanted, venv, time.monotonic() - started, 1, "set-up failed"))
            continue
        version = subprocess.run(
            [str(python), "-c", "from importlib.metadata import version; print(version('apache-airflow'))"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        run = subprocess.run(
            [
                str(python),
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:randomly",
                "--timeout",
                "180",
                "--continue-on-collection-errors",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        lines = [line for line in run.stdout.splitlines() if line.strip()]
        failed = [line for line in lines if line.startswith(("FAILED", "ERROR"))]
        for line in failed:
            print(f"   {line}")
        closing = lines[-1] if lines else "(no output)"
        print(closing, flush=True)
        results.append((version, python_used, venv, time.monotonic() - started, run.returncode, closing))
    print("\nmake matrix:")
    for version, python_used, venv, seconds, code, closing in results:
        print(
            f"  Airflow {version:<7} Python {python_used:<5} {venv:<18} {seconds:5.0f} s  "
            f"{'ok  ' if code == 0 else 'FAIL'} {closing.strip('= ')}"
        )
    return 0 if all(code == 0 for *_, code, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
