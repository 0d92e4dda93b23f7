"""Hostile inputs for the abuse suite, and the oracle that says whether a request body is acceptable.

Not a test module (no ``test_`` prefix): the abuse tests import it. Keep example sizes moderate: the whole
abuse suite has to run in seconds as part of ``make test``.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from airflow_provider_modelarts.models import (
    STRICT_INPUT_CONTEXT,
    Sample,
    SampleLabels,
    UpdateSamplesRequest,
    UploadSamplesRequest,
)

# ------------------------------------------------------------------------------------------------ leaves

NON_FINITE = st.sampled_from([math.nan, math.inf, -math.inf, -math.nan])
HUGE_INTS = st.sampled_from([2**63, -(2**63) - 1, 10**100, -(10**30)])
# Lone surrogates cannot be encoded as UTF-8, so no JSON body can carry them.
SURROGATES = st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1, max_size=3)
UNICODE = st.text(
    st.characters(blacklist_categories=("Cs",)),  # surrogates have their own strategy
    max_size=40,
)
FORBIDDEN_NAME_CHARS = "!<>=&\"'"
HUGE_TEXT = st.builds(lambda n, c: c * n, st.sampled_from([1025, 5000, 200_000]), st.sampled_from("a界\x00/"))
TRAVERSAL = st.sampled_from(
    ["../../etc/passwd", "..\\..\\windows\\win.ini", "/etc/shadow", "a/../../b", "%2e%2e%2f", "\x00/etc"]
)
PY_OBJECTS = st.sampled_from(
    [
        object(),
        b"\xff\xfe",
        bytearray(b"ab"),
        {1, 2},
        (1, 2),
        Decimal("NaN"),
        Decimal("1e999"),
        datetime(2024, 1, 1, tzinfo=UTC),
        complex(1, 2),
        Ellipsis,
        type,
        len,
    ]
)

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=2**40),
    HUGE_INTS,
    st.floats(allow_nan=False, allow_infinity=False),
    NON_FINITE,
    UNICODE,
    SURROGATES,
    TRAVERSAL,
    st.text(st.sampled_from(FORBIDDEN_NAME_CHARS + "ab"), min_size=1, max_size=5),
)

# JSON-ish values (what a manifest or a template can produce) plus Python objects only a DAG can pass.
ANY_VALUE = st.recursive(
    st.one_of(SCALARS, PY_OBJECTS),
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(UNICODE, SURROGATES, st.integers(0, 3)), children, max_size=4),
    ),
    max_leaves=12,
)


def nested(depth: int, leaf: Any = 1, kind: str = "list") -> Any:
    """``depth`` levels of lists or dicts around ``leaf`` (built iteratively: no recursion limit here)."""
    value = leaf
    for _ in range(depth):
        value = [value] if kind == "list" else {"k": value}
    return value


# Depths up to 600 only: deeper values break hypothesis' own printing of a failing example (the tests with
# 1,000 and 5,000 levels are explicit parametrised cases).
DEEP = st.builds(nested, st.sampled_from([50, 260, 600]), st.just(1), st.sampled_from(["list", "dict"]))
HOSTILE = st.one_of(SCALARS, PY_OBJECTS, DEEP, HUGE_TEXT, ANY_VALUE)

# ------------------------------------------------------------------------------------------------ samples

LABEL_NAMES = st.one_of(st.sampled_from(["cat", "dog", "猫", "ñandú", "🐈"]), UNICODE)
SHAPES = st.sampled_from(["bndbox", "polygon", "circle", "line", "dashed", "point", "polyline", "star", None])


@st.composite
def valid_sample(draw: st.DrawFn, index: int = 0) -> dict[str, Any]:
    """A sample a user could plausibly write, valid or close to it, before a hostile mutation."""
    sample: dict[str, Any] = {"name": f"img-{index}-{draw(st.integers(0, 10**6))}.jpg", "sample_type": 0}
    if draw(st.booleans()):
        sample["data"] = "aGVsbG8="
    label: dict[str, Any] = {"name": draw(LABEL_NAMES), "type": 0, "score": draw(st.floats(0, 1))}
    if draw(st.booleans()):
        label["property"] = {
            "@modelarts:shape": "bndbox",
            "@modelarts:feature": [[1, 2], [30, 40]],
            "color": draw(UNICODE),
        }
        label["type"] = 1
        sample["metadata"] = {"@modelarts:size": [640, 480, 3]}
    sample["labels"] = [label]
    return sample


# Where a hostile value is put: a path into the sample (created if missing).
PATHS = [
    ("name",),
    ("data",),
    ("sample_type",),
    ("encoding",),
    ("labels",),
    ("labels", 0),
    ("labels", 0, "name"),
    ("labels", 0, "score"),
    ("labels", 0, "type"),
    ("labels", 0, "annotated_by"),
    ("labels", 0, "property"),
    ("labels", 0, "property", "@modelarts:feature"),
    ("labels", 0, "property", "@modelarts:shape"),
    ("labels", 0, "property", "@modelarts:start_index"),
    ("labels", 0, "property", "@modelarts:start_time"),
    ("labels", 0, "property", "@modelarts:hard_coefficient"),
    ("labels", 0, "property", "custom attribute"),
    ("labels", 0, "property", "@modelarts:unknown"),
    ("metadata",),
    ("metadata", "@modelarts:size"),
    ("metadata", "custom"),
    ("metadata", "@modelarts:hard"),
    ("data_source",),
    ("data_source", "source_info", "user_password"),
    ("unknown_key",),
]


def put(sample: dict[str, Any], path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    """A copy of ``sample`` with ``value`` at ``path`` (containers on the path copied, missing dicts made)."""
    out = dict(sample)
    node: Any = out
    for key, next_key in itertools.pairwise(path):
        if isinstance(key, int):
            if not isinstance(node, list) or len(node) <= key:
                return out
            child = node[key]
        else:
            child = node.get(key)
        if isinstance(next_key, int):
            child = list(child) if isinstance(child, list) else None
        else:
            child = dict(child) if isinstance(child, dict) else {}
        if child is None:
            return out
        node[key] = child
        node = child
    last = path[-1]
    if (isinstance(node, dict) and not isinstance(last, int)) or (
        isinstance(node, list) and isinstance(last, int) and len(node) > last
    ):
        node[last] = value
    return out


@st.composite
def hostile_sample(draw: st.DrawFn, index: int = 0) -> Any:
    """A valid-looking sample with one or two hostile values, or a hostile value instead of a sample."""
    if draw(st.integers(0, 9)) == 0:
        return draw(HOSTILE)
    sample = draw(valid_sample(index))
    for _ in range(draw(st.integers(1, 2))):
        sample = put(sample, draw(st.sampled_from(PATHS)), draw(HOSTILE))
    return sample


@st.composite
def hostile_label_update(draw: st.DrawFn, index: int = 0) -> Any:
    """The SampleLabels counterpart of :func:`hostile_sample` (``sample_id`` instead of ``name``)."""
    sample = draw(hostile_sample(index))
    if isinstance(sample, dict):
        sample.pop("name", None)
        sample.pop("data", None)
        sample.pop("encoding", None)
        sample.pop("data_source", None)
        sample["sample_id"] = draw(st.one_of(st.just(f"sid-{index}"), HOSTILE))
        if draw(st.booleans()):
            sample["sample_usage"] = draw(st.one_of(st.sampled_from(["TRAIN", "EVAL", "train"]), HOSTILE))
    return sample


# ------------------------------------------------------------------------------------------------ oracle


def contains(value: Any, predicate: Any, _depth: int = 0) -> bool:
    """Whether any value (or dict key) nested in ``value`` satisfies ``predicate`` (iterative, depth-safe)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if predicate(item):
            return True
        if isinstance(item, Mapping):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    return False


def is_non_finite(value: Any) -> bool:
    return isinstance(value, float) and not math.isfinite(value)


def has_surrogate(value: Any) -> bool:
    return isinstance(value, str) and any(0xD800 <= ord(c) <= 0xDFFF for c in value)


def must_be_rejected(raw: Any) -> str | None:
    """Why ``raw`` can never become a correct request (so it must end in a validation error), or None.

    JSON has no NaN or infinity, and UTF-8 cannot encode a lone surrogate: a request built from such input
    either fails at serialisation (a crash mid-run) or silently carries different data (NaN sent as null).
    """
    if contains(raw, is_non_finite):
        return "a NaN or infinite number"
    if contains(raw, has_surrogate):
        return "a lone surrogate character"
    return None


class InvalidBody(AssertionError):
    """A request body that the service would refuse or misread."""


def _no_constants(name: str) -> Any:
    raise InvalidBody(f"body contains {name}, which is not JSON")


def strict_json(body: bytes) -> Any:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidBody(f"body is not UTF-8: {exc}") from None
    try:
        return json.loads(text, parse_constant=_no_constants)
    except json.JSONDecodeError as exc:
        raise InvalidBody(f"body is not JSON: {exc}") from None


def check_body(kind: str, body: bytes) -> dict[str, Any]:
    """Validate a request body the way a strict service would: JSON, then the request model in strict mode."""
    data = strict_json(body)
    if not isinstance(data, dict):
        raise InvalidBody(f"body is a {type(data).__name__}, not an object")
    model = {"add": UploadSamplesRequest, "update": UpdateSamplesRequest}[kind]
    item_model = {"add": Sample, "update": SampleLabels}[kind]
    try:
        model.model_validate(data, context=dict(STRICT_INPUT_CONTEXT))
        for item in data.get("samples") or []:
            item_model.model_validate(item, context=dict(STRICT_INPUT_CONTEXT))
    except ValueError as exc:
        raise InvalidBody(f"body fails strict validation: {str(exc)[:500]}") from None
    if not data.get("samples"):
        raise InvalidBody("body has no samples")
    return data
