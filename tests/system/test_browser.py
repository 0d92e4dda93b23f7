"""The Airflow UI in a real browser: the connection form, its Test button, the Trigger button with the form's
defaults, extra links that open the emulator's console, the labels it draws, and templates.

Playwright drives Debian's ``/usr/bin/chromium`` (never a downloaded browser build) against the session's
production-shaped deployment (``production``: the api-server of a PostgreSQL + Celery deployment, the
emulator behind it). Every wait is Playwright's
auto-waiting ``expect`` (or a poll of the REST API) with a generous deadline; nothing depends on how fast the
machine is, and no test depends on another having run: each finds its own runs by what it triggered.
Screenshots land in ``test-artifacts/browser/`` (four of them are in ``docs/screenshots/``).
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
from production_deployment import ProductionDeployment
from system_deployment import SystemDeployment, poll

from airflow_provider_modelarts import get_provider_info
from modelarts_emulator import DEFAULT_ACCESS_KEY, DEFAULT_PROJECT_ID, DEFAULT_SECRET_KEY
from modelarts_emulator.records import sample_id_for

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
TERMINAL = {"success", "failed"}
CONSOLE = "/_emulator/console/modelarts/"
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
def deployment(production: ProductionDeployment) -> SystemDeployment:
    return production


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
    required = [name for name, spec in fields.items() if "null" not in spec["schema"]["type"]]
    assert required == ["project_id"]
    for name, spec in fields.items():
        # A required field's label carries the form's required marker (an asterisk after the label).
        marker = r"\s*\*" if name in required else ""
        label = rf"^\s*{re.escape(spec['label'])}{marker}\s*$"
        expect(dialog.get_by_text(re.compile(label))).to_be_visible()
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
    # Empty, the required project ID is flagged and Save stays disabled until it is filled in.
    expect(dialog.locator("[name=element_project_id]")).to_have_attribute("aria-invalid", "true")
    expect(dialog.get_by_text("This field is required")).to_have_count(1)
    dialog.locator("input[name=connection_id]").fill("modelarts_required_check")
    expect(dialog.get_by_role("button", name="Save")).to_be_disabled()
    dialog.locator("[name=element_project_id]").fill(DEFAULT_PROJECT_ID)
    expect(dialog.get_by_role("button", name="Save")).to_be_enabled()
    expect(dialog.get_by_text("This field is required")).to_have_count(0)
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


def _wait_for_run(deployment: SystemDeployment, api: Any, run_id: str) -> str:
    """Move the emulator's reviewers until the run ends (and any run queued before it); its final state."""

    def finished() -> str | None:
        state = api.get(f"/dags/{PIPELINE}/dagRuns/{quote(run_id)}").json()["state"]
        if state in TERMINAL:
            return str(state)
        deployment.emulator.advance(steps=1)
        return None

    return poll(f"run {run_id} finished", finished, timeout=RUN_TIMEOUT, interval=0.5)


def _xcom(api: Any, run_id: str, task_id: str) -> Any:
    value = api.get(
        f"/dags/{PIPELINE}/dagRuns/{quote(run_id)}/taskInstances/{task_id}/xcomEntries/return_value",
        params={"deserialize": True},
    ).json()["value"]
    return json.loads(value) if isinstance(value, str) else value


def _parsed(api: Any) -> None:
    poll(
        f"{PIPELINE} parsed by the dag-processor",
        lambda: True if api.get(f"/dags/{PIPELINE}").status_code == 200 else None,
        timeout=300,
    )


_LOGICAL_DATE_VALUE = """dialog => {
  const label = [...dialog.querySelectorAll("*")].find(
    e => e.children.length === 0 && e.textContent.trim() === "Logical Date");
  let node = label;
  while (node && !node.querySelector("input")) node = node.parentElement;
  return node ? node.querySelector("input").value : null;
}"""


def _finished_pipeline_run(deployment: SystemDeployment) -> tuple[str, dict[str, Any]]:
    """Trigger the pipeline (no logical date, as REST API runs have); move the reviewers until it ends."""
    with deployment.api() as api:
        _parsed(api)
        api.patch(f"/dags/{PIPELINE}", json={"is_paused": False}).raise_for_status()
        triggered = api.post(
            f"/dags/{PIPELINE}/dagRuns", json={"logical_date": None, "conf": {"dataset_id": DATASET}}
        )
        assert triggered.status_code == 200, triggered.text
        run_id = triggered.json()["dag_run_id"]
        state = _wait_for_run(deployment, api, run_id)
        assert state == "success", f"{run_id} ended {state}; see {deployment.log_file}"
        created = _xcom(api, run_id, "create_team_task")
    deployment.emulator.advance(steps=3)  # the owner's decision finishes synchronizing (status 5 -> 3 or 4)
    return run_id, created


def test_trigger_button_with_the_forms_defaults_labels_a_new_batch(
    page: Page, deployment: SystemDeployment
) -> None:
    """What a new user does: open the DAG, press Trigger, press Trigger again without changing anything. The
    3.3 form fills in the logical date (now); unpausing the DAG also starts today's scheduled run; the manual
    run must still label a batch (its own), and the grid must show it did.

    The DAG is unpaused through the REST API first, as the form's "Unpause on trigger" would. Left to the
    form, its two requests (create the run, unpause) reach Airflow at the same moment, and which one wins
    is chance (on SQLite they once locked each other for the whole busy timeout): a test must not depend
    on it. What the issue is about, what our
    pipeline does with the form's defaults while the scheduled run of the day exists, is unchanged.
    """
    with deployment.api() as api:
        _parsed(api)
        before = {run["dag_run_id"] for run in api.get(f"/dags/{PIPELINE}/dagRuns").json()["dag_runs"]}
        api.patch(f"/dags/{PIPELINE}", json={"is_paused": False}).raise_for_status()

    page.goto(f"{deployment.base_url}/dags/{PIPELINE}")
    page.get_by_role("button", name="Trigger").first.click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_text("Trigger Dag", exact=False).first).to_be_visible()
    # What the form put in "Logical Date" (3.3: now): the value of the first input beside that label.
    logical_date = dialog.evaluate(_LOGICAL_DATE_VALUE)
    prefilled = bool(logical_date)
    batch = dialog.locator("[name=element_batch]")
    if batch.count() == 0:  # the params sit in a collapsed section on some releases
        dialog.get_by_text("Run Parameters", exact=False).first.click()
    expect(batch).to_have_value("auto")  # the batch param, with its default
    _shot(dialog, "trigger-form-defaults")
    dialog.get_by_role("button", name="Trigger", exact=True).click()
    expect(dialog).to_be_hidden()

    with deployment.api() as api:

        def manual_run() -> dict[str, Any] | None:
            runs = api.get(f"/dags/{PIPELINE}/dagRuns", params={"run_type": "manual"}).json()["dag_runs"]
            new = [run for run in runs if run["dag_run_id"] not in before and run["run_type"] == "manual"]
            return new[0] if new else None

        run = poll("the run the Trigger button made", manual_run, timeout=120)
        run_id = run["dag_run_id"]
        assert (run["logical_date"] is not None) == prefilled, (logical_date, run)  # the form's date went in
        assert _wait_for_run(deployment, api, run_id) == "success", f"see {deployment.log_file}"
        states = {
            ti["task_id"]: ti["state"]
            for ti in api.get(f"/dags/{PIPELINE}/dagRuns/{quote(run_id)}/taskInstances").json()[
                "task_instances"
            ]
        }
        created = _xcom(api, run_id, "create_team_task")
        decision = _xcom(api, run_id, "decide_by_pass_rate")
        # Every other run (the scheduled one that unpausing started) ended well too.
        for other in api.get(f"/dags/{PIPELINE}/dagRuns").json()["dag_runs"]:
            if other["dag_run_id"] not in before:
                assert _wait_for_run(deployment, api, other["dag_run_id"]) == "success", other

    # It labeled a batch of its own (named after its trigger time), reviewed it and decided.
    assert created["created"] is True and created["task_name"].startswith("labeling-m"), created
    assert states["batch_already_accepted"] == "skipped", states
    assert {states[t] for t in ("team_task_labels", "update_labels", "decide_by_pass_rate")} == {"success"}
    assert decision["decision"] in ("pass_all", "reject_all"), decision
    page.goto(f"{deployment.base_url}/dags/{PIPELINE}/runs/{quote(run_id)}")
    expect(page.get_by_text("batch_already_accepted").first).to_be_visible()
    _shot(page, "grid-after-trigger-with-defaults")


def test_extra_links_of_a_finished_run_open_the_console_and_templates_show_no_secret(
    page: Page, deployment: SystemDeployment
) -> None:
    run_id, team_task = _finished_pipeline_run(deployment)
    with deployment.api() as api:
        labels = _xcom(api, run_id, "team_task_labels")
    task_url = f"{deployment.base_url}/dags/{PIPELINE}/runs/{quote(run_id)}/tasks/update_labels"
    page.goto(task_url)

    page.get_by_role("link", name="Details", exact=True).click()
    dataset_link = page.get_by_role("link", name="ModelArts Dataset")
    team_task_link = page.get_by_role("link", name="ModelArts Team Task")
    console = re.escape(deployment.emulator_url + CONSOLE)
    expect(dataset_link).to_have_attribute("href", re.compile(f"^{console}.*{re.escape(DATASET)}"))
    expect(team_task_link).to_have_attribute(
        "href", re.compile(f"^{console}.*{re.escape(team_task['workforce_task_id'])}")
    )
    _shot(page, "task-details-extra-links")

    with page.context.expect_page() as opened:
        team_task_link.click()
    console_page = opened.value
    heading = console_page.get_by_role("heading", name=f"Team labeling task {team_task['task_name']}")
    expect(heading).to_be_visible()
    # Each sample the run labeled is drawn with the label the run gave it in this team task.
    for update in labels:
        card = console_page.locator(f".card[data-sample-id='{update['sample_id']}']")
        (label,) = update["labels"]
        expect(card.locator(f"svg g.label[data-name='{label['name']}']")).to_have_count(1)
    expect(console_page.locator(".card svg g.label")).to_have_count(len(labels))
    expect(console_page.locator(".status")).to_have_text(re.compile(r"ACCEPTED \(3\)|REJECTED \(4\)"))
    expect(console_page.locator("table.report")).to_contain_text("total")
    _shot(console_page, "console-team-task")
    console_page.close()

    page.get_by_role("link", name="Rendered Templates", exact=True).click()
    # The values sit in code viewers (line numbers beside them): look for them in the page's text.
    expect(page.locator("body")).to_contain_text(DATASET)
    expect(page.locator("body")).to_contain_text(team_task["workforce_task_id"])
    _shot(page, "task-rendered-templates")
    assert DEFAULT_SECRET_KEY not in page.content()


def test_console_draws_a_samples_boxes_polygons_circles_and_points(
    page: Page, deployment: SystemDeployment
) -> None:
    """From the console's first page to one image, as a person clicks through; the shapes sit where the
    sample's labels say (``@modelarts:feature`` on a canvas of the image's ``@modelarts:size``)."""
    page.goto(deployment.emulator_url + CONSOLE)
    page.get_by_role("link", name="pets-objects").click()
    page.get_by_role("link", name="living-room.jpg").click()
    drawing = page.locator(f".card[data-sample-id='{sample_id_for('ds-objects', 'living-room.jpg')}'] svg")
    expect(drawing).to_have_attribute("viewBox", "0 0 640 480")
    boxes = drawing.locator("g.label[data-shape=bndbox] rect")
    expect(boxes).to_have_count(2)
    assert boxes.evaluate_all("rects => rects.map(r => [r.x.baseVal.value, r.y.baseVal.value])") == [
        [64, 210],
        [330, 150],
    ]
    expect(drawing.locator("g.label[data-name=cat] text")).to_have_text("cat")
    _shot(page, "console-sample-boxes")

    page.go_back()
    page.get_by_role("link", name="garden.jpg").click()
    garden = page.locator("svg.sample")
    for shape, element in (("polygon", "polygon"), ("circle", "circle"), ("point", "circle")):
        expect(garden.locator(f"g.label[data-shape={shape}] {element}")).to_have_count(1)
