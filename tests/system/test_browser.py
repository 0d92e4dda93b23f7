"""The Airflow UI in a real browser: the ModelArts connection form, its Test button, extra links, templates.

Playwright drives Debian's ``/usr/bin/chromium`` (never a downloaded browser build) against a real
``airflow standalone`` deployment plus the emulator (``system_deployment``). The module starts its own
deployment so the runs it triggers never mix with the system tier's run counts. Every wait is Playwright's
auto-waiting ``expect`` (or a poll of the REST API) with a generous deadline; nothing depends on how fast the
machine is. Screenshots land in ``test-artifacts/browser/`` (two of them are in ``docs/screenshots/``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import airflow
import pytest
from airflow_versions import needs_metadata_connection_form
from packaging.version import Version
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright
from system_deployment import SystemDeployment, poll, system_deployment

from airflow_provider_modelarts import get_provider_info
from airflow_provider_modelarts.emulator import DEFAULT_ACCESS_KEY, DEFAULT_PROJECT_ID, DEFAULT_SECRET_KEY

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
UI_TIMEOUT_MS = 60_000
RUN_TIMEOUT = 600.0
PIPELINE = "modelarts_labeling_pipeline"
DATASET = "ds-images"
# The Test button of these releases sends port 0 for a connection stored without a port, and the API refuses
# it (apache/airflow#73298). The README's connection section names the same versions: on any other version the
# test expects the button to work without a port, and fails (so both get updated) if it does not.
TEST_BUTTON_NEEDS_PORT_0 = Version(airflow.__version__) in {Version("3.3.2")}

pytestmark = [pytest.mark.system, pytest.mark.browser]
expect.set_options(timeout=UI_TIMEOUT_MS)


def _modelarts_type() -> dict[str, Any]:
    (conn_type,) = [c for c in get_provider_info()["connection-types"] if c["connection-type"] == "modelarts"]
    return dict(conn_type)


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SystemDeployment]:
    with system_deployment(tmp_path_factory.mktemp("browser")) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser, deployment: SystemDeployment) -> Iterator[Page]:
    """A fresh browser session, logged into the UI through its sign-in page."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    context.set_default_timeout(UI_TIMEOUT_MS)
    ui = context.new_page()
    ui.goto(f"{deployment.base_url}/")
    ui.get_by_label("Username").fill(deployment.username)
    ui.get_by_label("Password").fill(deployment.password)
    ui.get_by_role("button", name="Sign in").click()
    expect(ui.get_by_role("button", name="Admin")).to_be_visible()
    yield ui
    context.close()


def _shot(target: Page | Locator, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    # Finished pictures: CSS animations (a toast sliding in) are fast-forwarded to their end.
    target.screenshot(path=str(ARTIFACTS / f"{name}.png"), animations="disabled")


def _open_add_connection(page: Page, base_url: str) -> Locator:
    """The Add Connection dialog with the ModelArts type chosen the way a user does: type, then Enter."""
    page.goto(f"{base_url}/connections")
    page.get_by_role("button", name="Add Connection").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("combobox").fill(_modelarts_type()["hook-name"])
    page.keyboard.press("Enter")
    expect(dialog.get_by_text(_modelarts_type()["hook-name"], exact=True)).to_be_visible()
    return dialog


def _open_section(dialog: Locator, title: str) -> None:
    # The form's sections are an accordion: opening one closes the other.
    dialog.get_by_text(title, exact=True).click()


def _create_connection(page: Page, deployment: SystemDeployment, conn_id: str, port: int | None) -> None:
    dialog = _open_add_connection(page, deployment.base_url)
    relabel = _modelarts_type()["ui-field-behaviour"]["relabeling"]
    dialog.locator("input[name=connection_id]").fill(conn_id)
    dialog.get_by_label(relabel["login"]).fill(DEFAULT_ACCESS_KEY)
    dialog.get_by_label(relabel["password"]).fill(DEFAULT_SECRET_KEY)
    if port is not None:
        dialog.get_by_label(relabel["port"]).fill(str(port))
    _open_section(dialog, "Extra Fields")
    dialog.locator("#element_project_id").fill(DEFAULT_PROJECT_ID)
    dialog.locator("#element_region").fill("cn-north-4")
    dialog.locator("#element_endpoint").fill(deployment.emulator_url)
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_be_hidden()


def _test_button(page: Page, base_url: str, conn_id: str) -> None:
    page.goto(f"{base_url}/connections")
    row = page.get_by_role("row").filter(has=page.get_by_text(conn_id, exact=True))
    row.get_by_role("button", name="Test Connection").click()


@needs_metadata_connection_form
def test_add_connection_form_shows_labels_placeholders_and_formats(
    page: Page, deployment: SystemDeployment
) -> None:
    conn_type = _modelarts_type()
    behaviour, fields = conn_type["ui-field-behaviour"], conn_type["conn-fields"]
    dialog = _open_add_connection(page, deployment.base_url)

    # Standard fields: relabeled, with the placeholders ui-field-behaviour gives them; host and schema hidden.
    for name in ("login", "password", "port"):
        field = dialog.get_by_label(behaviour["relabeling"][name])
        expect(field).to_have_attribute("placeholder", behaviour["placeholders"][name])
    for hidden in behaviour["hidden-fields"]:
        expect(dialog.locator(f"input[name={hidden}]")).to_have_count(0)
    expect(dialog.get_by_label(behaviour["relabeling"]["password"])).to_have_attribute("type", "password")
    _shot(dialog, "connection-form-standard")

    # Extra fields: every label and description; the formats as the 3.3 UI renders them (examples as a pick
    # list, defaults as initial values, secrets as password inputs).
    _open_section(dialog, "Extra Fields")
    for name, spec in fields.items():
        expect(dialog.get_by_text(spec["label"], exact=True)).to_be_visible()
        expect(dialog.get_by_text(spec["description"], exact=True)).to_be_visible()
        schema = spec["schema"]
        if "enum" in schema:
            continue  # a select, not an input
        field = dialog.locator(f"[name=element_{name}]")
        if examples := schema.get("examples"):
            expect(field).to_have_attribute("list", f"list_{name}")
            options = dialog.locator(f"#list_{name} option")
            expect(options).to_have_count(len(examples))
            assert options.evaluate_all("nodes => nodes.map(n => n.value)") == examples
        if "default" in schema:
            expect(field).to_have_value(str(schema["default"]))
        if schema.get("format") == "password":
            expect(field).to_have_attribute("type", "password")
    expect(dialog.get_by_text(fields["auth_type"]["schema"]["default"], exact=True)).to_be_visible()
    page.set_viewport_size({"width": 1280, "height": 1900})  # the whole dialog in one picture
    _shot(dialog, "connection-form-extra")


@needs_metadata_connection_form
def test_connection_made_in_the_form_passes_the_test_button(page: Page, deployment: SystemDeployment) -> None:
    """Created through the form with port 0 (the README's workaround), the Test button shows the hook's
    success message; a connection without a port meets apache/airflow#73298 on the affected versions."""
    _create_connection(page, deployment, "modelarts_ui", port=0)
    with deployment.api() as api:
        stored = api.get("/connections/modelarts_ui").json()
    extra = json.loads(stored["extra"])
    assert (stored["conn_type"], stored["login"], stored["port"]) == ("modelarts", DEFAULT_ACCESS_KEY, 0)
    assert extra["project_id"] == DEFAULT_PROJECT_ID and extra["endpoint"] == deployment.emulator_url
    assert DEFAULT_SECRET_KEY not in json.dumps(stored)  # the API masks the SK

    _test_button(page, deployment.base_url, "modelarts_ui")
    success = page.get_by_text(
        f"Connection to ModelArts project {DEFAULT_PROJECT_ID} at {deployment.emulator_url} succeeded."
    )
    expect(success).to_be_visible()
    success.hover()  # keeps the toast open (and the tooltip of the Test button out of the picture)
    _shot(page, "connection-test-success")

    _create_connection(page, deployment, "modelarts_ui_no_port", port=None)
    _test_button(page, deployment.base_url, "modelarts_ui_no_port")
    if TEST_BUTTON_NEEDS_PORT_0:
        expect(page.get_by_text("Bad Request").first).to_be_visible()
    else:
        expect(
            page.get_by_text(re.compile(r"Connection to ModelArts project .* succeeded\.")).first
        ).to_be_visible()
    _shot(page, "connection-test-no-port")


def _finished_pipeline_run(deployment: SystemDeployment) -> tuple[str, dict[str, Any]]:
    """Trigger the pipeline (no logical date, like the UI); move the emulator's reviewers until it ends."""
    with deployment.api() as api:
        poll(
            f"{PIPELINE} parsed by the dag-processor",
            lambda: True if api.get(f"/dags/{PIPELINE}").status_code == 200 else None,
            timeout=300,
        )
        api.patch(f"/dags/{PIPELINE}", json={"is_paused": False}).raise_for_status()
        triggered = api.post(
            f"/dags/{PIPELINE}/dagRuns", json={"logical_date": None, "conf": {"dataset_id": DATASET}}
        )
        assert triggered.status_code == 200, triggered.text
        run_id = triggered.json()["dag_run_id"]

        def finished() -> str | None:
            state = api.get(f"/dags/{PIPELINE}/dagRuns/{run_id}").json()["state"]
            if state in ("success", "failed"):
                return str(state)
            deployment.emulator.advance(steps=1)
            return None

        state = poll(f"run {run_id} finished", finished, timeout=RUN_TIMEOUT, interval=0.5)
        assert state == "success", f"{run_id} ended {state}; see {deployment.log_file}"
        created = api.get(
            f"/dags/{PIPELINE}/dagRuns/{run_id}/taskInstances/create_team_task/xcomEntries/return_value",
            params={"deserialize": True},
        ).json()["value"]
    return run_id, json.loads(created) if isinstance(created, str) else created


def test_task_details_show_extra_links_and_templates_show_no_secret(
    page: Page, deployment: SystemDeployment
) -> None:
    run_id, team_task = _finished_pipeline_run(deployment)
    task_url = f"{deployment.base_url}/dags/{PIPELINE}/runs/{quote(run_id)}/tasks/update_labels"
    page.goto(task_url)

    page.get_by_role("link", name="Details", exact=True).click()
    dataset_link = page.get_by_role("link", name="ModelArts Dataset")
    team_task_link = page.get_by_role("link", name="ModelArts Team Task")
    expect(dataset_link).to_have_attribute("href", re.compile(re.escape(DATASET)))
    expect(team_task_link).to_have_attribute("href", re.compile(re.escape(team_task["workforce_task_id"])))
    _shot(page, "task-details-extra-links")

    page.get_by_role("link", name="Rendered Templates", exact=True).click()
    # The values sit in code viewers (line numbers beside them): look for them in the page's text.
    expect(page.locator("body")).to_contain_text(DATASET)
    expect(page.locator("body")).to_contain_text(team_task["workforce_task_id"])
    _shot(page, "task-rendered-templates")
    assert DEFAULT_SECRET_KEY not in page.content()
