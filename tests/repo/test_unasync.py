"""scripts/unasync.py: the sync client is generated from the async one and `make lint` catches drift."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "unasync.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("unasync_script", _SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


unasync = _load()


def test_the_committed_sync_files_are_what_the_script_writes(capsys: pytest.CaptureFixture[str]) -> None:
    assert unasync.main(["--check"]) == 0
    assert "up to date" in capsys.readouterr().out


def test_tokens_are_replaced_whole() -> None:
    used: set[int] = set()
    source = (
        "class AsyncModelArtsClient(AsyncClientCore):\n"
        "    async def aclose(self) -> None:\n"
        "        await self._http.aclose()\n"
        "        retrying = AsyncRetrying(sleep=self._sleep)\n"
        "        self._http = httpx.AsyncClient(transport=t)  # httpx.AsyncBaseTransport\n"
        "        non_await = maclose = async_sleep_count = 1\n"
    )
    assert unasync.unasync_text(source, used) == (
        "class ModelArtsClient(ClientCore):\n"
        "    def close(self) -> None:\n"
        "        self._http.close()\n"
        "        retrying = Retrying(sleep=self._sleep)\n"
        "        self._http = httpx.Client(transport=t)  # httpx.BaseTransport\n"
        "        non_await = maclose = async_sleep_count = 1\n"
    )
    assert used


def test_a_stale_generated_file_fails_the_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    copies = []
    for source, target in unasync.FILES:
        copy = tmp_path / target.name
        copy.write_text(target.read_text(encoding="utf-8"), encoding="utf-8")
        copies.append((source, copy))
    stale = copies[0][1]
    real = unasync.FILES[0][1]
    stale.write_text(real.read_text(encoding="utf-8").replace("def close(", "def shut(", 1), encoding="utf-8")
    monkeypatch.setattr(unasync, "FILES", copies)
    monkeypatch.setattr(unasync, "ROOT", tmp_path)
    assert unasync.main(["--check"]) == 1
    out = capsys.readouterr().out
    assert "-    def shut(" in out and "+    def close(" in out
    assert "out of date" in out
    assert unasync.main([]) == 0  # writing regenerates it
    assert stale.read_text(encoding="utf-8") == real.read_text(encoding="utf-8")
