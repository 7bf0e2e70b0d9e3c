"""The README and docs/ quote the example DAGs instead of copying them, and their tables match the code."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
PAGES = {path.relative_to(ROOT).as_posix(): path.read_text() for path in sorted((ROOT / "docs").glob("*.md"))}
DOCUMENTS = {"README.md": README, **PAGES}
EXAMPLES = sorted((ROOT / "example_dags").glob("example_*.py"))
QUOTE = re.compile(
    r"<!-- quoted from (?P<path>\S+) \[START (?P<name>\S+)\] -->\n```python\n(?P<code>.*?)```", re.S
)
LINK = re.compile(r"\]\((?P<target>[^)\s]+)\)")
# The README is also the package's page on the index, where a relative link leads nowhere: it links
# the repository's files by their address under the project's Source URL.
SOURCE = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]["Source"] + "/blob/main/"


def _between_markers(path: str, name: str) -> str:
    source = (ROOT / path).read_text()
    return source.split(f"# [START {name}]\n", 1)[1].split(f"# [END {name}]", 1)[0]


QUOTES = [
    {"document": document, **match.groupdict()}
    for document, text in DOCUMENTS.items()
    for match in QUOTE.finditer(text)
]


def test_the_readme_quotes_an_example():
    assert any(quote["document"] == "README.md" for quote in QUOTES)


@pytest.mark.parametrize("quote", QUOTES, ids=[f"{q['document']}:{q['name']}" for q in QUOTES])
def test_quoted_code_matches_the_example_dag(quote):
    assert quote["code"] == _between_markers(quote["path"], quote["name"])


@pytest.mark.parametrize("quote", QUOTES, ids=[f"{q['document']}:{q['name']}" for q in QUOTES])
def test_a_quote_names_its_example_file_in_visible_text(quote):
    # The HTML comment naming the file does not show once rendered; the line above it does.
    comment = f"<!-- quoted from {quote['path']} [START {quote['name']}] -->"
    before = DOCUMENTS[quote["document"]].split(comment, 1)[0].rstrip().splitlines()[-1]
    assert before == f"From `{quote['path']}`:"


@pytest.mark.parametrize("example", EXAMPLES, ids=[path.stem for path in EXAMPLES])
def test_every_example_dag_is_quoted_in_the_docs(example):
    [name] = re.findall(r"# \[START (\S+)\]", example.read_text())
    path = example.relative_to(ROOT).as_posix()
    assert any(q["document"] in PAGES and (q["path"], q["name"]) == (path, name) for q in QUOTES)


def test_the_readme_links_every_docs_page():
    linked = {match["target"].split("#")[0].removeprefix(SOURCE) for match in LINK.finditer(README)}
    assert set(PAGES) <= linked


def test_the_readme_links_files_by_their_address_under_the_source_url():
    relative = [
        target for document, target in LINKS if document == "README.md" and not target.startswith("#")
    ]
    assert relative == []


def _anchors(text: str) -> set[str]:
    """Return the heading anchors a Markdown renderer such as GitHub's gives a page."""
    headings = re.findall(r"^#+ (.+)$", re.sub(r"```.*?```", "", text, flags=re.S), re.M)
    return {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}


LINKS = [
    (document, match["target"])
    for document, text in DOCUMENTS.items()
    for match in LINK.finditer(text)
    if not match["target"].startswith(("http://", "https://", "<"))
]
# The README's links into the repository, checked as the relative links they stand for.
SOURCE_LINKS = [
    ("README.md", match["target"].removeprefix(SOURCE))
    for match in LINK.finditer(README)
    if match["target"].startswith(SOURCE)
]


@pytest.mark.parametrize(
    "link", LINKS + SOURCE_LINKS, ids=[f"{document}->{target}" for document, target in LINKS + SOURCE_LINKS]
)
def test_links_into_the_repository_reach_a_file_and_heading(link):
    document, target = link
    path, _, anchor = target.partition("#")
    file = (ROOT / document).parent / path if path else ROOT / document
    assert file.is_file(), f"{document} links to a missing {path}"
    if anchor:
        assert anchor in _anchors(file.read_text()), f"{document}: no heading #{anchor} in {path or document}"


@pytest.mark.parametrize("document", ["README.md", "docs/end-of-life.md"])
def test_the_end_of_life_dates_are_stated(document):
    text = DOCUMENTS[document]
    for fact in ("2025-06-04", "2027-04-05", "120 days", "Jira Service Management"):
        assert fact in text


def test_the_two_commands_are_documented():
    assert "make demo" in README
    assert "make test" in README


ROW = re.compile(
    r"^\| `(?P<cls>Opsgenie\w+)` \| `(?P<action>\w+)` \| `(?P<method>[A-Z]+) (?P<path>\S+)` \|", re.M
)
ROWS = [match.groupdict() for match in ROW.finditer(README)]


def _provided_classes() -> dict[str, type]:
    import importlib
    import inspect

    from airflow_provider_opsgenie_incident.get_provider_info import get_provider_info

    info = get_provider_info()
    modules = [
        m for kind in ("operators", "sensors") for entry in info[kind] for m in entry["python-modules"]
    ]
    classes: dict[str, type] = {}
    for module_name in modules:
        module = importlib.import_module(module_name)
        for name, value in vars(module).items():
            if inspect.isclass(value) and value.__module__ == module_name and not name.startswith("_"):
                classes[name] = value
    return classes


def test_the_operator_table_lists_every_operator_and_sensor_once():
    assert sorted(row["cls"] for row in ROWS) == sorted(_provided_classes())


@pytest.mark.parametrize("row", ROWS, ids=[row["cls"] for row in ROWS])
def test_the_operator_table_matches_the_catalogue(row):
    from airflow_provider_opsgenie_incident.client.catalogue import ENDPOINTS

    endpoint = ENDPOINTS[row["action"]]
    assert (row["method"], row["path"]) == (endpoint.method, endpoint.path)
    cls = _provided_classes()[row["cls"]]
    if hasattr(cls, "action"):
        assert cls.action == row["action"]


def test_every_endpoint_is_served_by_an_operator_or_sensor():
    from airflow_provider_opsgenie_incident.client.catalogue import ENDPOINTS

    assert {row["action"] for row in ROWS} == set(ENDPOINTS)
