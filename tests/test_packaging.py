"""The sdist and the wheel as a release builds them: complete, without tests, with metadata that renders."""

from __future__ import annotations

import email
import email.message
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest

import airflow_provider_opsgenie_incident

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "airflow_provider_opsgenie_incident"
VERSION = airflow_provider_opsgenie_incident.__version__
STEM = f"{PACKAGE}-{VERSION}"


def _uv() -> str:
    uv = Path(sys.executable).with_name("uv")
    return str(uv) if uv.exists() else shutil.which("uv") or pytest.skip("uv is not installed")


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Build the sdist, then the wheel from the sdist (so the sdist must be complete), once."""
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [_uv(), "build", "--quiet", "--out-dir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return {"sdist": out / f"{STEM}.tar.gz", "wheel": out / f"{STEM}-py3-none-any.whl"}


def _package_files() -> set[str]:
    """Every file of the package in the source tree, as a path relative to the project root."""
    return {
        str(path.relative_to(ROOT))
        for path in (ROOT / PACKAGE).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


@pytest.fixture(scope="module")
def wheel_files(dist: dict[str, Path]) -> set[str]:
    with zipfile.ZipFile(dist["wheel"]) as wheel:
        return set(wheel.namelist())


@pytest.fixture(scope="module")
def sdist_files(dist: dict[str, Path]) -> set[str]:
    with tarfile.open(dist["sdist"]) as sdist:
        return {name.removeprefix(f"{STEM}/") for name in sdist.getnames()}


@pytest.fixture(scope="module")
def wheel_metadata(dist: dict[str, Path]) -> email.message.Message:
    with zipfile.ZipFile(dist["wheel"]) as wheel:
        return email.message_from_bytes(wheel.read(f"{STEM}.dist-info/METADATA"))


def test_the_wheel_holds_the_whole_package_and_nothing_else(wheel_files: set[str]) -> None:
    package = _package_files()
    assert f"{PACKAGE}/py.typed" in package
    assert f"{PACKAGE}/emulator/server.py" in package
    assert f"{PACKAGE}/connection.py" in package
    assert package <= wheel_files
    outside = {name for name in wheel_files - package if not name.startswith(f"{STEM}.dist-info/")}
    assert outside == set()
    assert f"{STEM}.dist-info/licenses/LICENSE" in wheel_files


def test_the_sdist_holds_the_package_and_the_project_files_but_no_tests(sdist_files: set[str]) -> None:
    assert _package_files() <= sdist_files
    assert {"pyproject.toml", "README.md", "CHANGELOG.md", "LICENSE", "PKG-INFO"} <= sdist_files
    for folder in ("tests", "example_dags", "benchmarks", "scripts", ".ci"):
        assert not [name for name in sdist_files if name == folder or name.startswith(f"{folder}/")], folder


def test_the_wheel_metadata(wheel_metadata: email.message.Message, dist: dict[str, Path]) -> None:
    assert wheel_metadata["Name"] == "airflow-provider-opsgenie-incident"
    assert wheel_metadata["Version"] == VERSION
    assert wheel_metadata["License-Expression"] == "Apache-2.0"
    assert wheel_metadata["Description-Content-Type"] == "text/markdown"
    urls = dict(entry.split(", ", 1) for entry in wheel_metadata.get_all("Project-URL") or [])
    assert set(urls) >= {"Documentation", "Source", "Issues", "Changelog"}
    assert all(url.startswith("https://github.com/") for url in urls.values())
    with zipfile.ZipFile(dist["wheel"]) as wheel:
        entry_points = wheel.read(f"{STEM}.dist-info/entry_points.txt").decode()
    assert f"provider_info = {PACKAGE}.get_provider_info:get_provider_info" in entry_points


def test_twine_check_passes_so_the_readme_renders_on_an_index(dist: dict[str, Path]) -> None:
    twine = Path(sys.executable).with_name("twine")
    if not twine.exists():
        pytest.skip("twine is not installed (it comes with the test extra)")
    result = subprocess.run(
        [str(twine), "--no-color", "check", "--strict", str(dist["sdist"]), str(dist["wheel"])],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("PASSED") == 2


def test_the_version_is_written_once_and_has_a_changelog_entry() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in project["project"]
    assert "version" in project["project"]["dynamic"]
    attr = project["tool"]["setuptools"]["dynamic"]["version"]["attr"]
    assert attr == f"{PACKAGE}.__version__"
    assert f"\n## {VERSION} " in (ROOT / "CHANGELOG.md").read_text()


def test_airflow_shows_the_documentation_link() -> None:
    from airflow.providers_manager import ProvidersManager

    provider = ProvidersManager().providers["airflow-provider-opsgenie-incident"]
    documentation = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]["Documentation"]
    # Airflow reads it from the "Project-URL: Documentation, <url>" metadata line; 3.2 keeps the
    # space after the comma, 3.3 strips it. The UI's link is the same either way.
    assert provider.data["documentation-url"].strip() == documentation
    assert documentation.startswith("https://")
