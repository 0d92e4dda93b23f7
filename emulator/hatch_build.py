"""Build-time metadata of modelarts-emulator: its version is the provider's, kept in one place.

The emulator is released with the provider (``airflow-provider-modelarts``) at the same version and uses the
provider's models, checks and signing, internals included; so its version and its pin on the provider both
come from the provider's ``__version__`` (``airflow_provider_modelarts/__init__.py``, beside this folder).
Its other dependencies are listed in ``pyproject.toml`` (``[tool.hatch.metadata.hooks.custom]``). Building
the wheel from the sdist (no provider beside it then), hatchling takes both fields from the sdist's PKG-INFO
and does not run this hook.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from hatchling.metadata.plugin.interface import MetadataHookInterface

PROVIDER_INIT = Path("..", "airflow_provider_modelarts", "__init__.py")


class EmulatorMetadataHook(MetadataHookInterface):
    def update(self, metadata: dict[str, Any]) -> None:
        text = (Path(self.root) / PROVIDER_INIT).read_text(encoding="utf-8")
        found = re.search(r'^__version__ = "([^"]+)"$', text, re.MULTILINE)
        if found is None:
            raise ValueError(f"no __version__ in {PROVIDER_INIT}")
        version = found.group(1)
        metadata["version"] = version
        metadata["dependencies"] = [f"airflow-provider-modelarts=={version}", *self.config["dependencies"]]
