"""A small read-only web console for the emulator: datasets, samples with their labels drawn, team tasks.

The provider's extra links ("ModelArts Dataset", "ModelArts Team Task") open the console the connection names
(its ``console_url`` extra). The emulator's connection line sets ``console_url`` to
``<emulator>/_emulator/console``, so in the demo and the tests those links open these pages instead of the
public console, which cannot show the emulator's data. Like the admin API it sits under ``/_emulator`` and
needs no credentials: it is for a person looking at a local emulator.

Pages are server-side HTML with inline SVG (``console_draw.py``). The one script is on the entry page: a link
has the real console's form, ``/modelarts/?region=..#/dataLabel?datasetId=..&workforceTaskId=..``, and the
part after ``#`` never reaches a server, so the page forwards it to the server-side page it names.

    GET /_emulator/console/modelarts/                                   datasets (+ the link forwarder)
    GET /_emulator/console/modelarts/datasets/{dataset_id}              samples drawn, team tasks
    GET /_emulator/console/modelarts/datasets/{dataset_id}/samples/{sample_id}
    GET /_emulator/console/modelarts/datasets/{dataset_id}/workforce-tasks/{task_id}   status, rounds, report
"""

from __future__ import annotations

from html import escape
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from .console_draw import LABEL_TYPES, draws_on_image, label_list, sample_svg
from .lifecycle import check_stats
from .records import DatasetRecord, SampleRecord, WorkforceTaskRecord
from .state import EmulatorState

__all__ = ["CONSOLE_PATH", "TASK_STATUSES", "console_router"]

#: Where the console lives on the emulator; the connection's ``console_url`` is the emulator's URL + this.
CONSOLE_PATH = "/_emulator/console"
_HOME = CONSOLE_PATH + "/modelarts/"
#: Team task ``status`` (Querying Details About a Team Labeling Task).
TASK_STATUSES = {
    0: "STARTING",
    1: "RUNNING",
    2: "ACCEPTING",
    3: "ACCEPTED",
    4: "REJECTED",
    5: "SYNCHRONIZING",
    6: "CREATED",
    7: "SAMPLING",
}
#: Samples shown per page: the console is for looking, not for reading 100,000 samples.
_PAGE = 48

_STYLE = """
body{font-family:system-ui,sans-serif;margin:0;color:#1f2933;background:#f7f9fb}
header{background:#1f4e79;color:white;padding:10px 24px}header a{color:white;text-decoration:none}
main{padding:16px 24px}h1{font-size:22px}h2{font-size:18px;margin-top:28px}
table{border-collapse:collapse;background:white}
td,th{border:1px solid #d9e2ec;padding:4px 10px;text-align:left}
.cards{display:flex;flex-wrap:wrap;gap:14px}.card{background:white;border:1px solid #d9e2ec;padding:8px;
width:340px}.card.wide{width:auto;display:inline-block}
.card h3{font-size:14px;margin:6px 0;word-break:break-all}.muted{color:#7b8794}
.labels{list-style:none;padding:0;margin:4px 0}.swatch{display:inline-block;width:10px;height:10px;
margin-right:6px}.status{font-weight:bold}.state{font-size:12px;color:#52606d}
"""

# A link carries its target after "#", which browsers keep to themselves: forward it to the page it names.
_FORWARD = """<script>
(function () {
  var match = location.hash.match(/^#\\/dataLabel\\?(.*)$/);
  if (!match) return;
  var query = new URLSearchParams(match[1]);
  var dataset = query.get("datasetId"), task = query.get("workforceTaskId");
  if (!dataset) return;
  var target = "datasets/" + encodeURIComponent(dataset);
  if (task) target += "/workforce-tasks/" + encodeURIComponent(task);
  location.replace(target + location.search);
})();
</script>"""


def _page(title: str, body: str, request: Request, *, script: str = "") -> HTMLResponse:
    region = request.query_params.get("region")
    where = f" &middot; region {escape(region)}" if region else ""
    return HTMLResponse(
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{escape(title)} - ModelArts emulator console</title><style>{_STYLE}</style>{script}</head>"
        f"<body><header><a href='{_HOME}'><b>ModelArts emulator console</b></a>{where}</header>"
        f"<main>{body}</main></body></html>"
    )


def _not_found(request: Request, what: str) -> HTMLResponse:
    page = _page("Not found", f"<h1>Not found</h1><p>{escape(what)}</p>", request)
    page.status_code = 404
    return page


def _dataset_url(dataset_id: str) -> str:
    return f"{_HOME}datasets/{quote(dataset_id, safe='')}"


def _task_url(dataset_id: str, task_id: str) -> str:
    return f"{_dataset_url(dataset_id)}/workforce-tasks/{quote(task_id, safe='')}"


def _sample_url(dataset_id: str, sample_id: str) -> str:
    return f"{_dataset_url(dataset_id)}/samples/{quote(sample_id, safe='')}"


def _type_name(code: Any) -> str:
    return f"{LABEL_TYPES.get(code, 'type')} ({code})"


def _status(code: int) -> str:
    return f'<span class="status" data-status="{code}">{TASK_STATUSES.get(code, "UNKNOWN")} ({code})</span>'


def _sample_state(record: SampleRecord) -> str:
    if record.to_be_confirmed:
        return "to be confirmed"
    return "labeled" if record.labels else "unlabeled"


def _card(
    dataset: DatasetRecord, record: SampleRecord, labels: list[dict[str, Any]] | None, state: str
) -> str:
    """One sample: labels drawn on the image (or listed, for text and speech), its state, a link to it."""
    drawing = ""
    if draws_on_image(record.sample_type, dataset.dataset_type, labels or []):
        drawing = sample_svg(record.name, labels, record.metadata)
    return (
        f'<div class="card sample" data-sample-id="{escape(record.sample_id)}" '
        f'data-sample-name="{escape(record.name)}">{drawing}'
        f'<h3><a href="{_sample_url(dataset.dataset_id, record.sample_id)}">{escape(record.name)}</a></h3>'
        f'<div class="state">{escape(state)}</div>{label_list(labels)}</div>'
    )


def _cards(cards: list[str], total: int, offset: int) -> str:
    shown = f"samples {offset + 1}-{offset + len(cards)} of {total}" if cards else "no samples"
    more = f' <a href="?offset={offset + _PAGE}">next page</a>' if offset + len(cards) < total else ""
    return f'<p class="muted">{shown}, newest first.{more}</p><div class="cards">{"".join(cards)}</div>'


def _offset(request: Request) -> int:
    try:
        return max(int(request.query_params.get("offset", "0")), 0)
    except ValueError:
        return 0


def _tasks_table(dataset: DatasetRecord) -> str:
    if not dataset.tasks:
        return '<p class="muted">no team labeling tasks</p>'
    rows = "".join(
        f'<tr class="team-task" data-task-id="{escape(task.task_id)}">'
        f'<td><a href="{_task_url(dataset.dataset_id, task.task_id)}">{escape(task.task_name)}</a></td>'
        f"<td>{escape(task.task_id)}</td><td>{_status(task.status)}</td><td>{len(task.samples)}</td>"
        f"<td>{len([r for r in task.checking if not r.cancelled])}</td></tr>"
        for task in sorted(dataset.tasks.values(), key=lambda t: t.create_time, reverse=True)
    )
    return (
        "<table><tr><th>team task</th><th>id</th><th>status</th><th>samples</th>"
        f"<th>acceptance rounds</th></tr>{rows}</table>"
    )


def _report(task: WorkforceTaskRecord) -> str:
    """The acceptance report as the report API gives it (total over the rounds, and the latest round)."""
    rounds = [r for r in task.checking if not r.cancelled]
    if not rounds:
        return '<p class="muted">no acceptance round yet</p>'
    rows = []
    for round_ in rounds:
        stats = check_stats([round_])
        decided = {0: "PASS_ALL", 1: "REJECT_ALL"}
        action = (
            "no decision yet" if round_.action is None else decided.get(round_.action, str(round_.action))
        )
        rows.append(
            f'<tr class="round" data-checking-task-id="{escape(round_.task_id)}">'
            f"<td>{escape(round_.task_id)}</td>"
            f"<td>{stats['checked_sample_count']}/{stats['sampled_sample_count']}</td>"
            f"<td>{stats['accepted_sample_count']}</td><td>{stats['rejected_sample_count']}</td>"
            f"<td>{stats['pass_rate']:.1%}</td><td>{stats['score']}</td><td>{action}</td></tr>"
        )
    total = check_stats(rounds)
    return (
        "<table class='report'><tr><th>checking task</th><th>checked / sampled</th><th>accepted</th>"
        f"<th>rejected</th><th>pass rate</th><th>score</th><th>decision</th></tr>{''.join(rows)}"
        f"<tr><td><b>total</b></td><td>{total['checked_sample_count']}/{total['sampled_sample_count']}</td>"
        f"<td>{total['accepted_sample_count']}</td><td>{total['rejected_sample_count']}</td>"
        f"<td>{total['pass_rate']:.1%}</td><td>{total['score']}</td><td></td></tr></table>"
    )


def console_router(state: EmulatorState) -> APIRouter:
    """The console's pages, reading ``state`` under its lock (they never change it)."""
    router = APIRouter(prefix=CONSOLE_PATH, include_in_schema=False)

    @router.get("")
    @router.get("/")
    async def home_redirect(request: Request) -> Response:
        return RedirectResponse(_HOME + (f"?{request.url.query}" if request.url.query else ""))

    @router.get("/modelarts/")
    async def home(request: Request) -> HTMLResponse:
        with state.lock:
            rows = "".join(
                f'<tr class="dataset" data-dataset-id="{escape(d.dataset_id)}">'
                f'<td><a href="{_dataset_url(d.dataset_id)}">{escape(d.dataset_name)}</a></td>'
                f"<td>{escape(d.dataset_id)}</td><td>{escape(_type_name(d.dataset_type))}</td>"
                f"<td>{len(d.samples)}</td><td>{len(d.tasks)}</td></tr>"
                for d in state.datasets.values()
            )
            project = state.config.project_id
        body = (
            f"<h1>Datasets of project {escape(project)}</h1><table><tr><th>dataset</th><th>id</th>"
            f"<th>type</th><th>samples</th><th>team tasks</th></tr>{rows}</table>"
        )
        return _page("Datasets", body, request, script=_FORWARD)

    @router.get("/modelarts/datasets/{dataset_id}")
    async def dataset_page(request: Request, dataset_id: str) -> HTMLResponse:
        offset = _offset(request)
        with state.lock:
            dataset = state.datasets.get(dataset_id)
            if dataset is None:
                return _not_found(request, f"dataset {dataset_id} does not exist")
            records = sorted(dataset.samples.values(), key=lambda r: r.sample_time, reverse=True)
            cards = [_card(dataset, r, r.labels, _sample_state(r)) for r in records[offset : offset + _PAGE]]
            labels = ", ".join(escape(str(label.get("name"))) for label in dataset.labels) or "none"
            body = (
                f"<h1>{escape(dataset.dataset_name)}</h1><p>{escape(dataset.description)}</p>"
                f"<p>id {escape(dataset.dataset_id)} &middot; {escape(_type_name(dataset.dataset_type))} "
                f"&middot; label set: {labels}</p><h2>Team labeling tasks</h2>{_tasks_table(dataset)}"
                f"<h2>Samples (dataset labels)</h2>{_cards(cards, len(records), offset)}"
            )
        return _page(dataset.dataset_name, body, request)

    @router.get("/modelarts/datasets/{dataset_id}/samples/{sample_id}")
    async def sample_page(request: Request, dataset_id: str, sample_id: str) -> HTMLResponse:
        with state.lock:
            dataset = state.datasets.get(dataset_id)
            record = dataset.samples.get(sample_id) if dataset is not None else None
            if dataset is None or record is None:
                return _not_found(request, f"sample {sample_id} of dataset {dataset_id} does not exist")
            drawing = ""
            if draws_on_image(record.sample_type, dataset.dataset_type, record.labels or []):
                drawing = sample_svg(record.name, record.labels, record.metadata, width_px=640)
            in_tasks = "".join(
                f'<li><a href="{_task_url(dataset_id, task.task_id)}">{escape(task.task_name)}</a>: '
                f"{escape(task.samples[sample_id].state)} {label_list(task.samples[sample_id].labels)}</li>"
                for task in dataset.tasks.values()
                if sample_id in task.samples
            )
            body = (
                f'<p><a href="{_dataset_url(dataset_id)}">{escape(dataset.dataset_name)}</a></p>'
                f'<h1>{escape(record.name)}</h1><div class="card sample wide" '
                f'data-sample-id="{escape(sample_id)}">{drawing}</div>'
                f"<p>{escape(_sample_state(record))} &middot; {record.size} bytes &middot; "
                f"{escape(record.source)}</p><h2>Labels</h2>{label_list(record.labels)}"
                f"<h2>In team labeling tasks</h2><ul>{in_tasks or '<li>none</li>'}</ul>"
            )
        return _page(record.name, body, request)

    @router.get("/modelarts/datasets/{dataset_id}/workforce-tasks/{task_id}")
    async def task_page(request: Request, dataset_id: str, task_id: str) -> HTMLResponse:
        offset = _offset(request)
        with state.lock:
            dataset = state.datasets.get(dataset_id)
            task = dataset.tasks.get(task_id) if dataset is not None else None
            if dataset is None or task is None:
                return _not_found(
                    request, f"team labeling task {task_id} of dataset {dataset_id} does not exist"
                )
            entries = sorted(
                (
                    (dataset.samples[s.sample_id], s)
                    for s in task.samples.values()
                    if s.sample_id in dataset.samples
                ),
                key=lambda pair: pair[0].sample_time,
                reverse=True,
            )
            cards = [
                _card(dataset, record, sample.labels, _task_state(sample.state, sample.check_accept))
                for record, sample in entries[offset : offset + _PAGE]
            ]
            teams = ", ".join(
                escape(str(team.get("workforce_name", team.get("workforce_id")))) for team in task.workforces
            )
            body = (
                f'<p><a href="{_dataset_url(dataset_id)}">{escape(dataset.dataset_name)}</a></p>'
                f"<h1>Team labeling task {escape(task.task_name)}</h1>"
                f"<p>id {escape(task.task_id)} &middot; status {_status(task.status)} &middot; teams: "
                f"{teams or 'none'}</p><h2>Acceptance report</h2>{_report(task)}"
                f"<h2>Samples (labels in this task)</h2>{_cards(cards, len(entries), offset)}"
            )
        return _page(task.task_name, body, request)

    return router


def _task_state(state: str, check_accept: bool | None) -> str:
    if check_accept is None:
        return state
    return f"{state}, reviewer {'accepted' if check_accept else 'rejected'}"
