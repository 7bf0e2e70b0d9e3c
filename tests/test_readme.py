"""The README quotes the example DAGs instead of copying them, and its tables match the code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
QUOTE = re.compile(
    r"<!-- quoted from (?P<path>\S+) \[START (?P<name>\S+)\] -->\n```python\n(?P<code>.*?)```", re.S
)


def _between_markers(path: str, name: str) -> str:
    source = (ROOT / path).read_text()
    return source.split(f"# [START {name}]\n", 1)[1].split(f"# [END {name}]", 1)[0]


QUOTES = [match.groupdict() for match in QUOTE.finditer(README)]


def test_readme_quotes_examples():
    assert len(QUOTES) >= 3


@pytest.mark.parametrize("quote", QUOTES, ids=[q["name"] for q in QUOTES])
def test_quoted_code_matches_the_example_dag(quote):
    assert quote["code"] == _between_markers(quote["path"], quote["name"])


def test_the_two_commands_are_documented():
    assert "make demo" in README
    assert "make test" in README
