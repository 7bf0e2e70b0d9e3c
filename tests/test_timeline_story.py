"""``docs/callbacks.md`` shows what ``scripts/timeline_story.py`` renders from the emulator, times aside."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "timeline_story.py"


def _script() -> object:
    spec = importlib.util.spec_from_file_location("timeline_story", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("timeline_story", module)  # its dataclass looks its module up
    spec.loader.exec_module(module)
    return module


def _between(text: str, begin: str, end: str) -> str:
    assert (text.count(begin), text.count(end)) == (1, 1), "one rendering, between its two markers"
    return text.split(begin, 1)[1].split(end, 1)[0].strip()


@pytest.mark.timeout(120)
def test_the_doc_shows_the_scripts_rendering() -> None:
    story = _script()
    env = {key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW")}
    result = subprocess.run(
        [sys.executable, str(SCRIPT)], capture_output=True, text=True, env=env, timeout=100, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    rendered = _between(result.stdout, story.BEGIN, story.END)  # type: ignore[attr-defined]
    documented = _between((ROOT / "docs" / "callbacks.md").read_text(), story.BEGIN, story.END)  # type: ignore[attr-defined]
    normalise = story.normalise  # type: ignore[attr-defined]
    assert normalise(documented) == normalise(rendered)
    # The story itself: four entries of the notifiers, in the order the events happened.
    custom = [line for line in rendered.splitlines() if line.startswith("| ") and " | custom | " in line]
    titles = [line.split(" | custom | ")[1].split("<br>")[0] for line in custom]
    assert titles == [
        "Failed: billing.load_invoices, try 2 of 2",
        "Retrying: billing.load_invoices, try 1 of 2 failed",
        "Failed: billing.load_invoices, try 2 of 2",
        "Recovered: billing.load_invoices succeeded on try 1 of 2",
    ]
    times = [line.split(" | ")[0].lstrip("| ") for line in custom]
    assert times == sorted(times)
