"""Refresh the example-DAG quotes in README.md and docs/*.md from the `# [START …]` markers."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUOTE = re.compile(
    r"(<!-- quoted from (?P<path>\S+) \[START (?P<name>\S+)\] -->\n```python\n)(?P<code>.*?)```", re.S
)


def _between_markers(path: str, name: str) -> str:
    source = (ROOT / path).read_text()
    return source.split(f"# [START {name}]\n", 1)[1].split(f"# [END {name}]", 1)[0]


def main() -> None:
    for document in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = document.read_text()
        fresh = QUOTE.sub(lambda m: m.group(1) + _between_markers(m["path"], m["name"]) + "```", text)
        if fresh != text:
            document.write_text(fresh)
            print(f"re-quoted {document.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
