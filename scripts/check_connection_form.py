"""Open Airflow's Add Connection form for ``opsgenie_incident`` in headless Chromium and check it.

Starts ``airflow api-server`` in a throw-away AIRFLOW_HOME (SQLite, SimpleAuthManager with every
user an admin), chooses our connection type in the form, and compares what a user sees (labels,
help texts, pre-filled values, the choices of each dropdown) with the connection module. No
``null`` may be offered or shown. A secret extra (the proxy URL) must be masked where the UI can
mask one: Airflow 3.3 renders ``format: password`` as a masked input, 3.2's form has no masked
input for extra fields and shows it in clear. Needs the system's Chromium and chromedriver (Debian:
``apt-get install chromium chromium-driver``) and ``selenium``; no browser is downloaded.

    .venv/bin/python scripts/check_connection_form.py [--screenshot PATH]

Exits 0 when the form is as expected, 1 with the list of differences otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from airflow_provider_opsgenie_incident.connection import EXTRAS, HOOK_NAME, ExtraField

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,2300",
)
#: The standard fields a user sees for our type, by their labels; schema, login and port are hidden.
STANDARD_LABELS = ["Description", "API URL", "API key"]
HIDDEN_LABELS = ["Login", "Port", "Schema"]


def browser_available() -> str | None:
    """Return why the check cannot run here, or None when it can."""
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not shutil.which(path)]
    if missing:
        return f"{' and '.join(missing)} not installed (apt-get install chromium chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (uv pip install selenium)"
    return None


@dataclass
class FormView:
    """What the form shows, read from the page."""

    standard: list[str] = field(default_factory=list)
    extras: dict[str, dict[str, Any]] = field(default_factory=dict)
    text: str = ""
    #: The version the UI's server reports; empty when unknown.
    airflow_version: str = ""


def masks_secret_extras(airflow_version: str) -> bool:
    """Return whether that Airflow's form masks an extra declared ``format: password`` (3.3 and later)."""
    if not airflow_version:
        return True
    major, minor = (int(part) for part in airflow_version.split(".")[:2])
    return (major, minor) >= (3, 3)


def _server_version(url: str) -> str:
    with urllib.request.urlopen(f"{url}/api/v2/version", timeout=10) as answer:
        return str(json.load(answer)["version"])


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _airflow_environment(home: Path) -> dict[str, str]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW")}
    environment.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
            "AIRFLOW__CORE__AUTH_MANAGER": (
                "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
            ),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "SE_AVOID_STATS": "true",
        }
    )
    return environment


def _wait_for_health(url: str, server: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"airflow api-server exited with {server.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/api/v2/monitor/health", timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"airflow api-server did not answer within {timeout:.0f} s")


def _start_browser() -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tempfile.mkdtemp(prefix='opsgenie-form-chromium-')}")
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.implicitly_wait(15)
    return driver


#: Read each extra's label, help text and shown value in one go, as React may re-render between reads.
_READ_FIELDS = """
const fields = [];
for (const named of document.querySelectorAll("[role=dialog] [name^='element_']")) {
  const name = named.name.slice("element_".length);
  const root = named.closest("[data-scope='field'][data-part='root']");
  const dropdown = root.querySelector("input[role=combobox]");
  fields.push([name, {
    label: root.querySelector("label").innerText.trim(),
    help: root.querySelector("[data-part='helper-text']")?.innerText.trim() ?? "",
    selected: dropdown ? document.getElementById(`element_${name}`).innerText.trim() : null,
    value: dropdown ? null : named.value,
    masked: named.type === "password",
  }]);
}
return fields;
"""


def _retry_stale(read: Any, attempts: int = 10) -> Any:
    """Run ``read`` again when React replaced an element between finding and using it."""
    from selenium.common.exceptions import StaleElementReferenceException

    for _ in range(attempts - 1):
        try:
            return read()
        except StaleElementReferenceException:
            time.sleep(0.2)
    return read()


def _open_choices(driver: Any, name: str) -> list[str]:
    """Open a dropdown as a user does, read its choices, and close it by clicking its label."""
    from selenium.webdriver.common.by import By

    dropdown = driver.find_element(By.ID, f"element_{name}")
    dropdown.click()
    choices = [option.text for option in driver.find_elements(By.CSS_SELECTOR, "[role=option]")]
    root = dropdown.find_element(By.XPATH, "./ancestor::*[@data-scope='field' and @data-part='root'][1]")
    root.find_element(By.TAG_NAME, "label").click()
    return choices


def _expand_extra_fields(driver: Any, timeout: float = 20.0) -> None:
    """Open the "Extra Fields" section; the form may re-render and close it while it settles."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            button = driver.find_element(By.XPATH, "//button[normalize-space()='Extra Fields']")
            if button.get_attribute("aria-expanded") == "true" and driver.execute_script(
                "return Boolean(document.getElementById(arguments[0])?.offsetParent)",
                f"element_{list(EXTRAS)[0]}",
            ):
                return
            if button.get_attribute("aria-expanded") != "true":
                button.click()
        except StaleElementReferenceException:
            pass
        time.sleep(0.5)
    raise RuntimeError("the Extra Fields section did not open")


def read_form(driver: Any, url: str) -> FormView:
    """Open the Add Connection form, choose our type and read every field a user sees."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    driver.get(f"{url}/connections")
    driver.find_element(By.XPATH, "//button[contains(., 'Add Connection')]").click()
    dialog = driver.find_element(By.CSS_SELECTOR, "[role=dialog]")
    chooser = dialog.find_element(By.CSS_SELECTOR, "input[role=combobox]")
    chooser.send_keys(HOOK_NAME)
    chooser.send_keys(Keys.ENTER)
    view = FormView()
    section = dialog.find_element(
        By.XPATH,
        ".//button[normalize-space()='Standard Fields']"
        "/ancestor::*[@data-scope='accordion' and @data-part='item'][1]",
    )
    view.standard = [label.text for label in section.find_elements(By.TAG_NAME, "label") if label.text]
    _expand_extra_fields(driver)
    view.extras = dict(driver.execute_script(_READ_FIELDS))
    for name, seen in view.extras.items():
        if seen.get("selected") is not None:
            seen["choices"] = _retry_stale(lambda name=name: _open_choices(driver, name))
    dialog = driver.find_element(By.CSS_SELECTOR, "[role=dialog]")
    view.text = dialog.text
    return view


def _expected_label(extra: ExtraField, value: Any) -> str:
    return extra.choice_labels.get(str(value), str(value))


def differences(view: FormView) -> list[str]:
    """Compare the form with the connection module; an empty list means they agree."""
    problems: list[str] = []
    if view.standard != STANDARD_LABELS:
        problems.append(f"standard fields {view.standard}, expected {STANDARD_LABELS}")
    problems += [f"hidden field {label} is shown" for label in HIDDEN_LABELS if label in view.standard]
    if "null" in view.text.lower().split():
        problems.append("the form shows 'null'")
    if list(view.extras) != list(EXTRAS):
        problems.append(f"extra fields {list(view.extras)}, expected {list(EXTRAS)}")
    for name, extra in EXTRAS.items():
        seen = view.extras.get(name, {})
        if seen.get("label") != extra.label:
            problems.append(f"{name}: label {seen.get('label')!r}, expected {extra.label!r}")
        if seen.get("help") != extra.help:
            problems.append(f"{name}: help text {seen.get('help')!r}, expected {extra.help!r}")
        if extra.choices:
            choices = [_expected_label(extra, choice) for choice in extra.choices]
            if seen.get("choices") != choices:
                problems.append(f"{name}: choices {seen.get('choices')}, expected {choices}")
            if seen.get("selected") != _expected_label(extra, extra.default):
                problems.append(f"{name}: shows {seen.get('selected')!r}, expected its default")
        else:
            value = "" if extra.default is None else str(extra.default)
            if seen.get("value") != value:
                problems.append(f"{name}: value {seen.get('value')!r}, expected {value!r}")
            masked = extra.secret and masks_secret_extras(view.airflow_version)
            if seen.get("masked") != masked:
                problems.append(f"{name}: masked is {seen.get('masked')}, expected {masked}")
    return problems


def check_at(url: str, screenshot: Path) -> FormView:
    """Read the form of the Airflow UI at ``url`` and save a screenshot of it."""
    driver = _start_browser()
    try:
        view = read_form(driver, url)
        view.airflow_version = _server_version(url)
    finally:
        driver.save_screenshot(str(screenshot))
        driver.quit()
    return view


def check(screenshot: Path) -> tuple[FormView, list[str]]:
    """Run Airflow and the browser, read the form, save a screenshot; return the view and differences."""
    airflow = str(Path(sys.executable).with_name("airflow"))
    with tempfile.TemporaryDirectory(prefix="opsgenie-form-airflow-") as home:
        environment = _airflow_environment(Path(home))
        subprocess.run(
            [airflow, "db", "migrate"], env=environment, check=True, capture_output=True, timeout=180
        )
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [airflow, "api-server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            _wait_for_health(url, server, timeout=120)
            view = check_at(url, screenshot)
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
    return view, differences(view)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--screenshot", type=Path, default=Path(tempfile.gettempdir()) / "opsgenie-form.png")
    parser.add_argument("--url", help="check an Airflow UI already running there (all users admins)")
    arguments = parser.parse_args(argv)
    reason = browser_available()
    if reason:
        print(f"cannot check the form: {reason}", file=sys.stderr)
        return 2
    started = time.monotonic()
    if arguments.url:
        view = check_at(arguments.url.rstrip("/"), arguments.screenshot)
        problems = differences(view)
    else:
        view, problems = check(arguments.screenshot)
    for name, seen in view.extras.items():
        shown = seen["selected"] if seen.get("selected") is not None else seen.get("value")
        print(f"{seen.get('label')!r:24} {shown!r:28} {seen.get('choices', '')}  ({name})")
    print(f"screenshot: {arguments.screenshot}; {time.monotonic() - started:.1f} s")
    for problem in problems:
        print(f"DIFFERENCE: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
