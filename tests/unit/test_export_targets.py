"""Every export target is all or nothing; every location is reported absolute and without a secret.

A failure at any page (hypothesis picks the page, the kind of failure and what the target held before)
leaves each kind of target as it was, with no temporary beside it: a local path, a ``file://`` URL, an
fsspec URL, a ``UPath``, and Airflow's ``ObjectStoragePath`` on a store attached for its connection (the way
an ``s3://`` connection is used; the store is an in-memory fsspec filesystem of its own). The walk is a fake
sync client (the export takes any client with the two sample walks); the operator's tests go through HTTP.
"""

from __future__ import annotations

import json
import re
import string
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar
from urllib.parse import urlsplit

import fsspec
import httpx
import pytest
import respx
from airflow.providers.common.compat.sdk import AirflowFailException
from airflow.sdk import AssetAlias, ObjectStoragePath
from airflow.sdk.execution_time.context import OutletEventAccessors
from airflow.sdk.io import attach
from fsspec.implementations.memory import MemoryFileSystem
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from structlog.testing import capture_logs
from upath import UPath

from airflow_provider_modelarts import errors
from airflow_provider_modelarts.errors import ModelArtsError, ModelArtsServerError
from airflow_provider_modelarts.export import export_labels, location_uri, public_location
from airflow_provider_modelarts.lineage import operator_lineage
from airflow_provider_modelarts.operators.export import ExportLabelsOperator
from airflow_provider_modelarts.retries import RetryPolicy
from unit.hooks._helpers import UNIT_ENDPOINT, set_unit_conn

DATASET_LIST = f"{UNIT_ENDPOINT}/v2/p1/datasets/d1/data-annotations/samples"
NAME = "labels.jsonl"
ALIAS = "labels-exported"


class _Store(MemoryFileSystem):
    """An object store of its own (fsspec's ``memory://`` shares one store per process)."""

    store: ClassVar[dict[str, Any]] = {}
    pseudo_dirs: ClassVar[list[str]] = [""]


class _RefusingStore(_Store):
    """A store whose copy onto the target fails (a quota, a permission, a network error)."""

    def mv(self, path1: Any, path2: Any, *args: Any, **kwargs: Any) -> None:
        raise PermissionError("the store refused the move")

    def cp_file(self, path1: Any, path2: Any, **kwargs: Any) -> None:
        raise PermissionError("the store refused the copy")


STORE_CONN, REFUSING_CONN = "export_targets_store", "export_targets_refusing"
attach("s3", conn_id=STORE_CONN, fs=_Store())
attach("s3", conn_id=REFUSING_CONN, fs=_RefusingStore())
attach("abfs", conn_id=STORE_CONN, fs=_Store())


class _ListIncomplete(ModelArtsError):
    """Stands in for the walk's transient "could not prove it read every sample" error where errors.py does
    not have it yet: a ModelArtsError, transient, not a ValueError."""

    @property
    def is_transient(self) -> bool:
        return True


def _incomplete_list() -> ModelArtsError:
    """The error a sample walk raises when it cannot prove it read every sample (``IncompleteListError``)."""
    error_class = getattr(errors, "IncompleteListError", None)
    if error_class is None:
        return _ListIncomplete("sample_count says 300, 200 were read")
    counts = {"distinct": 200, "counts": (300,), "pages": 2, "passes": 1}
    error: ModelArtsError = error_class(what="samples of dataset d1", reason="the count changed", **counts)
    return error


class _Killed(BaseException):
    """The task being stopped mid-write (not an ``Exception``)."""


@dataclass
class _Walk:
    """A sync client whose sample walks yield ``pages`` and, at page ``fail_at`` (``len(pages)``: after the
    last one, where a walk reconciles what it read with the count), raise ``error`` or, for ``"unwritable"``,
    yield a sample the manifest cannot hold; ``between_pages`` runs before each page after the first (the
    manifest so far is written by then). ``calls`` records which walk was asked for, with what."""

    pages: list[list[Any]]
    fail_at: int | None = None
    error: BaseException | str | None = None
    between_pages: Any = None
    calls: list[tuple[Any, ...]] = field(default_factory=list)

    def iter_samples(self, dataset_id: str, **arguments: Any) -> Iterator[Any]:
        self.calls.append(("dataset", dataset_id, arguments))
        return self._walk()

    def iter_workforce_task_samples(self, dataset_id: str, task_id: str, **arguments: Any) -> Iterator[Any]:
        self.calls.append(("team task", dataset_id, task_id, arguments))
        return self._walk()

    def _walk(self) -> Iterator[Any]:
        for number, page in enumerate([*self.pages, []]):
            if number and self.between_pages:
                self.between_pages()
            if number == self.fail_at:
                if self.error == "unwritable":
                    yield {"sample_id": "bad", "labels": [{"name": "cat"}], "metadata": {"x": object()}}
                else:
                    assert isinstance(self.error, BaseException)
                    raise self.error
            yield from page


@dataclass
class _Place:
    """One target of one kind: what the export is given, the location it must report, the directory (on
    ``fs``) it is written in, and the directory made for it alone (``top``, removed afterwards)."""

    target: Any
    location: str
    fs: Any
    directory: str
    top: str

    def put(self, data: bytes) -> None:
        self.fs.makedirs(self.directory, exist_ok=True)
        self.fs.pipe_file(f"{self.directory}/{NAME}", data)

    def read(self) -> bytes | None:
        path = f"{self.directory}/{NAME}"
        return self.fs.cat_file(path) if self.fs.exists(path) else None

    def names(self) -> list[str]:
        """Every file under ``top`` (a temporary left behind would show here)."""
        if not self.fs.exists(self.top):
            return []
        return sorted(path.rsplit("/", 1)[-1] for path in self.fs.find(self.top))

    def remove(self) -> None:
        if self.fs.exists(self.top):
            self.fs.rm(self.top, recursive=True)


def _place(kind: str, root: Path, folder: str = "") -> _Place:
    """A target of ``kind`` in a new directory (and in ``folder`` below it: a name with glob characters)."""
    unique = uuid.uuid4().hex
    below = f"/{folder}" if folder else ""
    local = f"{root}/{unique}{below}"
    local_fs = fsspec.filesystem("file")
    if kind == "local path":
        return _Place(Path(local, NAME), f"{local}/{NAME}", local_fs, local, f"{root}/{unique}")
    if kind == "file URL":
        return _Place(f"file://{local}/{NAME}", f"{local}/{NAME}", local_fs, local, f"{root}/{unique}")
    url = f"memory://exports/{unique}{below}/{NAME}"
    memory = fsspec.filesystem("memory")
    if kind == "fsspec URL":
        return _Place(url, url, memory, f"/exports/{unique}{below}", f"/exports/{unique}")
    if kind == "UPath":
        return _Place(UPath(url), url, memory, f"/exports/{unique}{below}", f"/exports/{unique}")
    conn, fs = (REFUSING_CONN, _RefusingStore()) if kind == "refusing store" else (STORE_CONN, _Store())
    url = f"s3://bucket/{unique}{below}/{NAME}"
    return _Place(
        ObjectStoragePath(url, conn_id=conn), url, fs, f"bucket/{unique}{below}", f"bucket/{unique}"
    )


KINDS = ("local path", "file URL", "fsspec URL", "UPath", "ObjectStoragePath")
sample = st.builds(
    lambda i, labels: {"sample_id": f"s{i}", "labels": [{"name": name} for name in labels]},
    st.integers(0, 999),
    st.lists(st.sampled_from(["cat", "dog", "猫"]), max_size=2),
)
pages = st.lists(st.lists(sample, max_size=3), max_size=4)
failures = st.sampled_from(["list incomplete", "server error", "unwritable", "killed"])
previous = st.none() | st.binary(max_size=40)
folders = st.sampled_from(["", "run[1]*"])  # fsspec's mv and rm would read the second one as a glob


def _error(failure: str) -> BaseException | str:
    if failure == "list incomplete":
        return _incomplete_list()
    if failure == "server error":
        return ModelArtsServerError(status=503, error_code="ModelArts.0001", error_msg="busy")
    return "unwritable" if failure == "unwritable" else _Killed()


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("export-targets")


@settings(max_examples=120, deadline=None)
@given(kind=st.sampled_from(KINDS), pages=pages, data=st.data(), failure=failures, before=previous)
def test_a_failure_at_any_page_leaves_every_kind_of_target_as_it_was(
    root: Path,
    kind: str,
    pages: list[list[dict[str, Any]]],
    data: st.DataObject,
    failure: str,
    before: bytes | None,
) -> None:
    fail_at = data.draw(st.integers(0, len(pages)), label="fail_at")
    place = _place(kind, root, data.draw(folders, label="folder"))
    try:
        if before is not None:
            place.put(before)
        with pytest.raises((ModelArtsError, TypeError, _Killed)) as raised:
            export_labels(_Walk(pages, fail_at, _error(failure)), "d1", place.target)
        assert failure != "unwritable" or isinstance(raised.value, TypeError)
        assert place.read() == before  # absent, or the previous manifest byte for byte
        assert place.names() == ([NAME] if before is not None else [])  # and no temporary left behind
    finally:
        place.remove()


@settings(max_examples=60, deadline=None)
@given(kind=st.sampled_from(KINDS), pages=pages, before=previous, folder=folders)
def test_a_complete_export_replaces_every_kind_of_target_whole(
    root: Path, kind: str, pages: list[list[dict[str, Any]]], before: bytes | None, folder: str
) -> None:
    place = _place(kind, root, folder)
    try:
        if before is not None:
            place.put(before)
        walk = _Walk(pages)
        result = export_labels(walk, "d1", place.target)
        labeled = [s for page in pages for s in page if s["labels"]]
        lines = (place.read() or b"").decode().splitlines()
        assert [json.loads(line) for line in lines] == labeled and place.names() == [NAME]
        assert (result.path, result.bytes, result.samples) == (
            place.location,
            len(place.read() or b""),
            len(lines),
        )
        assert result.label_counts == Counter(label["name"] for s in labeled for label in s["labels"])
        assert walk.calls == [("dataset", "d1", {"sample_state": "__ALL__", "page_size": 100})]
    finally:
        place.remove()


@pytest.mark.parametrize(("folder", "step"), [("", "move"), ("run[1]*", "copy")])
@pytest.mark.parametrize("before", [None, b"previous manifest\n"])
def test_a_move_the_store_refuses_leaves_the_previous_object_and_no_temporary(
    root: Path, before: bytes | None, folder: str, step: str
) -> None:
    place = _place("refusing store", root, folder)
    if before is not None:
        place.put(before)
    with pytest.raises(PermissionError, match=f"refused the {step}"):
        export_labels(_Walk([[{"sample_id": "s1", "labels": [{"name": "cat"}]}]]), "d1", place.target)
    assert place.read() == before and place.names() == ([NAME] if before is not None else [])


def _attach_userinfo(url: str) -> None:
    """ObjectStoragePath takes a URL's userinfo for its connection id (as ``urlsplit`` reads it): give that
    "connection" a store, before the path is built (building it caches a store without one)."""
    userinfo = urlsplit(url).netloc.rpartition("@")[0]
    if userinfo:
        attach(urlsplit(url).scheme, conn_id=userinfo, fs=_Store())


def test_the_walk_gets_the_filter_page_size_and_filters_asked_for(root: Path) -> None:
    walk = _Walk([])
    target = root / uuid.uuid4().hex / NAME
    export_labels(walk, "d1", target)
    export_labels(walk, "d1", target, workforce_task_id="t1")
    export_labels(walk, "d1", target, sample_state="__UNCHECK__", page_size=7, label_name="cat")
    export_labels(walk, "d1", target, workforce_task_id="t1", sample_state="__REJECTED__", page_size=3, x=1)
    assert walk.calls == [
        ("dataset", "d1", {"sample_state": "__ALL__", "page_size": 100}),
        ("team task", "d1", "t1", {"sample_state": "__ACCEPTED__", "page_size": 100}),
        ("dataset", "d1", {"sample_state": "__UNCHECK__", "page_size": 7, "label_name": "cat"}),
        ("team task", "d1", "t1", {"sample_state": "__REJECTED__", "page_size": 3, "x": 1}),
    ]


@pytest.mark.parametrize("kind", ["local path", "fsspec URL"])
def test_the_temporary_is_hidden_beside_the_target_and_no_glob(root: Path, kind: str) -> None:
    """fsspec's ``mv`` and ``rm`` read ``*``, ``?`` and ``[`` as a glob: a target name holding them is
    written all the same, through a temporary name without them."""
    place = _place(kind, root)
    name = "labels[1]*?.jsonl"
    place.target = f"{str(place.target).rpartition('/')[0]}/{name}"
    seen: list[list[str]] = []
    sample = {"sample_id": "s1", "labels": [{"name": "cat"}]}
    export_labels(
        _Walk([[sample], [sample]], between_pages=lambda: seen.append(place.names())), "d1", place.target
    )
    if kind == "local path":  # (an object store shows a key once it is closed)
        assert [len(names) for names in seen] == [1, 1]
        assert re.fullmatch(r"\.labels_1\]__\.jsonl\.[0-9a-f]{32}\.part", seen[0][0]), seen
    assert place.names() == [name]
    assert place.fs.cat_file(f"{place.directory}/{name}").count(b"\n") == 2
    place.remove()


def test_a_local_path_object_or_bytes_path_is_written_as_a_local_file(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class BytesPath:
        def __init__(self, path: Path) -> None:
            self.path = path

        def __fspath__(self) -> bytes:
            return bytes(self.path)

    monkeypatch.chdir(root)
    walk = _Walk([[{"sample_id": "s1", "labels": [{"name": "cat"}]}]])
    for target, where in [
        (UPath(f"local://{root}/local.jsonl"), root / "local.jsonl"),
        (UPath("relative/upath.jsonl"), root / "relative" / "upath.jsonl"),
        (BytesPath(root / "bytes.jsonl"), root / "bytes.jsonl"),
    ]:
        assert export_labels(walk, "d1", target).path == str(where) and where.stat().st_size > 0


@pytest.mark.parametrize(
    ("target", "named"),
    [(object(), "object"), (SimpleNamespace(fs=fsspec.filesystem("memory"), path=None), "SimpleNamespace")],
)
def test_a_target_with_no_filesystem_and_path_is_refused_naming_its_type(target: Any, named: str) -> None:
    with pytest.raises(ValueError) as raised:
        export_labels(_Walk([]), "d1", target)
    assert str(raised.value).endswith(f"path object such as ObjectStoragePath, got {named}")


# -- where it went --------------------------------------------------------------------------------------


def test_a_relative_local_path_is_reported_absolute(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(root)
    result = export_labels(_Walk([]), "d1", f"relative/{NAME}")
    assert result.path == str(root / "relative" / NAME) and (root / "relative" / NAME).exists()
    assert location_uri(result.path) == f"file://{root}/relative/{NAME}"
    assert location_uri("s3://bucket/key.jsonl") == "s3://bucket/key.jsonl"


def test_the_asset_uri_of_a_local_path_is_percent_encoded() -> None:
    assert location_uri("/data/my labels#1.jsonl") == "file:///data/my%20labels%231.jsonl"


# Passwords and tokens as people paste them: unencoded "/", ":", "@", "%", "?", "#" included.
secret = st.text(string.ascii_letters + string.digits + "/:@%?#&=+!$*~._-", min_size=1, max_size=24).map(
    lambda text: f"Zq{text}"
)
bucket = st.from_regex(r"[a-z0-9][a-z0-9.-]{2,20}", fullmatch=True)
key = st.lists(st.from_regex(r"[A-Za-z0-9._-]{1,12}", fullmatch=True), min_size=1, max_size=3).map("/".join)
scheme = st.sampled_from(["s3", "gs", "sftp", "https", "memory", "simplecache::s3"])


@settings(max_examples=300)
@given(
    scheme=scheme, bucket=bucket, key=key, password=secret, token=secret, user=st.sampled_from(["u", "a.b"])
)
def test_a_reported_location_keeps_the_bucket_and_key_and_no_secret(
    scheme: str, bucket: str, key: str, password: str, token: str, user: str
) -> None:
    """Passwords with "/", ":", "@", "%", "?", "#"; tokens too, alone or with a password. The one shape that
    cannot be read back is a password with an ``@`` and later a ``?`` or ``#`` (``u:a@b?c@bucket/key``
    reads as host ``b`` and a query as well): then only "no secret" holds (the module's rule)."""
    for url in (
        f"{scheme}://{user}:{password}@{bucket}/{key}",
        f"{scheme}://{user}:{password}@{bucket}/{key}?sig={token}",
        f"{scheme}://{bucket}/{key}?sig={token}&se=2030",  # a signed URL's token
        f"{scheme}://{bucket}/{key}#{token}",
        f"{scheme}://aws_default@{bucket}/{key}?X-Amz-Signature={token}",  # ObjectStoragePath's conn_id
    ):
        reported = public_location(url)
        assert password not in reported and token not in reported, url
        if password not in url or not re.search("@.*[?#]", password):
            assert reported == f"{scheme}://{bucket}/{key}", url


@pytest.mark.parametrize(
    ("url", "reported"),
    [
        (
            "abfs://labels@account.dfs.core.windows.net/d1.jsonl",
            "abfs://labels@account.dfs.core.windows.net/d1.jsonl",
        ),
        (
            "ABFSS://labels@account.dfs.core.windows.net/d1.jsonl?sv=1&sig=x",
            "ABFSS://labels@account.dfs.core.windows.net/d1.jsonl",
        ),
        ("simplecache::az://labels@account/d1.jsonl", "simplecache::az://labels@account/d1.jsonl"),
        ("wasbs://user:pass@account/d1.jsonl", "wasbs://account/d1.jsonl"),  # with a ":" it is a credential
        ("s3://aws_default@bucket/v@2/d1.jsonl", "s3://bucket/v@2/d1.jsonl"),  # an "@" in a key is kept
        ("sftp://user:pa/ss@host:22/d1.jsonl", "sftp://host:22/d1.jsonl"),
        ("s3://bu[cket/d1.jsonl?sig=x", "s3://bu[cket/d1.jsonl"),  # a host urllib refuses
        ("s3://bucket//d1.jsonl", "s3://bucket//d1.jsonl"),
        ("abfs://labels/d1.jsonl", "abfs://labels/d1.jsonl"),  # the short form: no "@" at all
        ("s3://me@corp.example@bucket/d1.jsonl", "s3://bucket/d1.jsonl"),  # an "@" in a user name
        ("s3://bucket/d1.jsonl?next=https://example.com/x", "s3://bucket/d1.jsonl"),
        ("sftp://user:p@ss@", "sftp://"),  # nothing after the userinfo
        ("relative/d1.jsonl", "relative/d1.jsonl"),
    ],
)
def test_a_container_at_account_is_a_place_not_a_credential(url: str, reported: str) -> None:
    assert public_location(url) == reported


def test_an_object_storage_path_is_reported_without_its_connection_whatever_the_protocol(root: Path) -> None:
    """An Azure ``ObjectStoragePath`` holds its connection where a container could be: removed by name."""
    target = ObjectStoragePath(
        f"abfs://labels/{uuid.uuid4().hex}/{NAME}?sig=tok&next=https://example.com/x", conn_id=STORE_CONN
    )
    assert str(target).startswith(f"abfs://{STORE_CONN}@labels/")
    result = export_labels(_Walk([[{"sample_id": "s1", "labels": [{"name": "cat"}]}]]), "d1", target)
    assert result.path == str(target).replace(f"{STORE_CONN}@", "").partition("?")[0]
    # A "connection id" holding ":" is a password ObjectStoragePath took for one: never reported.
    url = f"s3://user:Zq-secret@bucket/{uuid.uuid4().hex}/{NAME}"
    _attach_userinfo(url)
    result = export_labels(_Walk([]), "d1", ObjectStoragePath(url, conn_id=STORE_CONN))
    assert result.path.startswith("s3://bucket/") and "Zq-secret" not in result.path
    # A password with "@" and "/": ObjectStoragePath takes "user:Zq" for a connection, "x" for the bucket.
    url = f"s3://user:Zq@x/y@bucket/{uuid.uuid4().hex}/{NAME}"
    _attach_userinfo(url)
    result = export_labels(_Walk([]), "d1", ObjectStoragePath(url))
    assert result.path == url.replace("user:Zq@x/y@", "")


# -- the operator ---------------------------------------------------------------------------------------


@pytest.fixture
def _connection(monkeypatch: pytest.MonkeyPatch) -> None:
    set_unit_conn(monkeypatch)


def _answers(pages: int, fail_at: int | None = None) -> Any:
    """One sample a page (the service says ``pages`` samples), empty pages after them; 503 at ``fail_at``."""

    def answer(request: httpx.Request) -> httpx.Response:
        number = int(request.url.params["offset"])
        if number == fail_at:
            return httpx.Response(503, json={"error_code": "ModelArts.0001", "error_msg": "busy"})
        samples = [{"sample_id": f"s{number}", "labels": [{"name": "cat"}]}] if number < pages else []
        return httpx.Response(200, json={"sample_count": pages, "samples": samples})

    return answer


@pytest.mark.usefixtures("_connection")
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kind=st.sampled_from(["local path", "ObjectStoragePath"]), pages=st.integers(1, 3), data=st.data())
def test_the_operator_fails_retryably_and_leaves_no_file_when_the_walk_breaks_off(
    root: Path, kind: str, pages: int, data: st.DataObject
) -> None:
    fail_at = data.draw(st.integers(0, pages - 1), label="fail_at")
    place = _place(kind, root)
    path = str(place.target) if kind == "local path" else place.location
    op = ExportLabelsOperator(
        task_id="export", dataset_id="d1", path=path, page_size=1, asset_alias=ALIAS,
        storage_conn_id=STORE_CONN, client_retry=RetryPolicy(max_attempts=1),
    )  # fmt: skip
    accessors = OutletEventAccessors()
    try:
        with respx.mock() as router:
            router.get(DATASET_LIST).mock(side_effect=_answers(pages, fail_at))
            with pytest.raises(ModelArtsServerError) as raised:  # not AirflowFailException: Airflow retries
                op.execute(context={"outlet_events": accessors})  # type: ignore[arg-type]
        assert raised.value.is_transient
        assert place.names() == [] and op.lineage_uris == ([], [])
        assert accessors[AssetAlias(ALIAS)].asset_alias_events == []
    finally:
        place.remove()


@pytest.mark.usefixtures("_connection")
def test_the_operator_lets_a_transient_walk_error_through_for_a_retry(root: Path) -> None:
    """The walk's "cannot prove it read every sample" is transient and no ValueError: the try fails, Airflow
    retries it, and the target is left absent (the hook's client replaced by a walk that raises it)."""
    from airflow_provider_modelarts.hooks.modelarts import ModelArtsHook

    place = _place("ObjectStoragePath", root)
    op = ExportLabelsOperator(
        task_id="export", dataset_id="d1", path=place.location, storage_conn_id=STORE_CONN
    )
    error = _incomplete_list()
    assert error.is_transient and not isinstance(error, ValueError)
    walk = _Walk([[{"sample_id": "s1", "labels": [{"name": "cat"}]}]], fail_at=1, error=error)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ModelArtsHook, "get_conn", lambda self: walk)
        with pytest.raises(type(error)):  # not AirflowFailException
            op.execute(context={})
    assert place.names() == []


@pytest.mark.usefixtures("_connection")
def test_a_relative_path_becomes_an_absolute_file_uri_and_lineage_name(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(root)
    op = ExportLabelsOperator(task_id="export", dataset_id="d1", path=f"exports/{NAME}", asset_alias=ALIAS)
    accessors = OutletEventAccessors()
    with respx.mock() as router:
        router.get(DATASET_LIST).mock(side_effect=_answers(1))
        summary = op.execute(context={"outlet_events": accessors})  # type: ignore[arg-type]
    absolute = str(root / "exports" / NAME)
    ((event),) = accessors[AssetAlias(ALIAS)].asset_alias_events
    assert event.dest_asset_key.uri == f"file://{absolute}" and absolute.startswith("/")
    assert summary["path"] == absolute and op.lineage_uris[1] == [absolute]
    assert [(d.namespace, d.name) for d in operator_lineage(*op.lineage_uris).outputs] == [("file", absolute)]


@pytest.mark.usefixtures("_connection")
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(password=secret, token=secret, bucket=st.from_regex(r"[a-z0-9]{3,12}", fullmatch=True))
def test_no_secret_of_the_path_reaches_the_log_xcom_lineage_or_asset_event(
    caplog: pytest.LogCaptureFixture, password: str, token: str, bucket: str
) -> None:
    url = f"s3://user:{password}@{bucket}/exports/{NAME}?sig={token}"
    _attach_userinfo(url)
    op = ExportLabelsOperator(
        task_id="export", dataset_id="d1", path=url, storage_conn_id=STORE_CONN, asset_alias=ALIAS
    )
    accessors = OutletEventAccessors()
    caplog.clear()
    with caplog.at_level("DEBUG"), capture_logs() as events, respx.mock(assert_all_called=False) as router:
        route = router.get(DATASET_LIST).mock(side_effect=_answers(1))
        try:
            summary = op.execute(context={"outlet_events": accessors})  # type: ignore[arg-type]
        except AirflowFailException as refused:
            # Airflow 3.1's ObjectStoragePath cannot parse a password holding "/", "?" or "#" (a "port"):
            # the task fails for good, and its message does not repeat the URL.
            assert re.search("[/?#]", password) and str(refused) == (
                "path is a URL Airflow's ObjectStoragePath cannot parse (not repeated here: it may hold "
                "credentials); keep credentials in the Airflow connection named by storage_conn_id"
            )
            assert refused.__cause__ is None and refused.__suppress_context__  # no chained text either
            assert not route.called  # refused before any request
            return
    assert route.called
    ((event),) = accessors[AssetAlias(ALIAS)].asset_alias_events
    lineage = operator_lineage(*op.lineage_uris)
    # The task log is structlog's (Airflow 3). fsspec's own debug lines name the keys it touches, and a
    # password ObjectStoragePath misread into the key is in the key: every other logger is checked.
    logged = [e["event"] % tuple(e.get("positional_args", ())) for e in events]
    assert any(line.startswith("Exported 1 labeled samples") for line in logged)
    logged += [r.getMessage() for r in caplog.records if not r.name.startswith("fsspec")]
    shown = [json.dumps(summary), *logged, repr(lineage), event.dest_asset_key.uri, json.dumps(event.extra)]
    assert summary["samples"] == 1 and summary["path"].startswith("s3://")
    if not re.search("[/?#@]", password):  # (any of those, and ObjectStoragePath misreads the URL itself)
        assert summary["path"] == f"s3://{bucket}/exports/{NAME}"
    for text in shown:
        assert password not in text and token not in text
