"""``make matrix``: the pytest suite on each supported Airflow minor release, each in its own venv.

| leg | Airflow | Python | venv |
| --- | --- | --- | --- |
| oldest supported | latest 3.1.x | 3.10 | ``.venv-3.1`` |
| middle | latest 3.2.x | 3.12 | ``.venv-3.2`` |
| newest | 3.3.x | 3.11 | ``.venv`` (the one ``make test`` uses) |
| newest Python | 3.3.x | 3.13 | ``.venv-3.3-py3.13`` |

A leg whose Python interpreter is not on this machine runs on the default ``python3`` instead and
says so. Exit status 1 if any leg's suite fails; each leg's pytest closing line is printed.
"""

from __future__ import annotations

import glob
import shutil
import subprocess
import sys
import time
from pathlib import Path

from e2e.deployment import ROOT

LEGS = [
    ("3.1", "3.10", ".venv-3.1"),
    ("3.2", "3.12", ".venv-3.2"),
    ("3.3", "3.11", ".venv"),
    ("3.3", "3.13", ".venv-3.3-py3.13"),
]


def interpreter(version: str) -> str | None:
    found = shutil.which(f"python{version}")
    if found:
        return found
    candidates = sorted(glob.glob(f"/root/.pyenv/versions/{version}.*/bin/python{version}"))
    return candidates[-1] if candidates else None


def python_version(python: Path) -> str:
    out = subprocess.run(
        [str(python), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=False,
    )
    return out.stdout.strip()


def prepare(airflow: str, python_wanted: str, venv: str) -> tuple[Path, str]:
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
    if not python.exists() or python_version(python) != wanted:
        shutil.rmtree(target, ignore_errors=True)
        subprocess.run(
            [sys.executable, "-m", "uv", "venv", "--quiet", "--python", base, str(target)], check=True
        )
    major, minor = airflow.split(".")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "uv",
            "pip",
            "install",
            "--quiet",
            "--python",
            str(python),
            "-e",
            f"{ROOT}[test]",
            f"apache-airflow>={airflow},<{major}.{int(minor) + 1}",
        ],
        check=True,
        cwd=ROOT,
    )
    return python, wanted


def main() -> int:
    results: list[tuple[str, str, str, float, int, str]] = []
    for airflow, python_wanted, venv in LEGS:
        started = time.monotonic()
        print(f"\n== Airflow {airflow}.x on Python {python_wanted} ({venv})", flush=True)
        python, python_used = prepare(airflow, python_wanted, venv)
        version = subprocess.run(
            [str(python), "-c", "from importlib.metadata import version; print(version('apache-airflow'))"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        run = subprocess.run(
            [str(python), "-m", "pytest", "-q", "-p", "no:randomly", "--timeout", "180"],
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
