"""Write requirements/bootstrap.lock: the uv pin (with all its hashes) taken from an Airflow lock.

The venv's bundled pip installs only this file, so the install never depends on how that pip resolves a
full lock; taking the pin from the newest lock keeps the installer and the uv the lock installs the same.

Usage: ``python scripts/bootstrap_lock.py requirements/airflow-3.3.lock requirements/bootstrap.lock``
"""

from __future__ import annotations

import sys
from pathlib import Path

HEADER = (
    "# The one thing the venv's bundled pip installs (pinned, hashed, no dependencies): uv, which then\n"
    "# installs requirements/airflow-<minor>.lock exactly. Written by `make lock` from the newest lock.\n"
)


def uv_block(lock_text: str) -> str:
    """The ``uv==...`` requirement with its ``--hash`` continuation lines, without uv's ``# via`` notes."""
    lines = lock_text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("uv=="))
    block = [lines[start]]
    for line in lines[start + 1 :]:
        if not line.startswith("    --hash="):
            break
        block.append(line)
    return "\n".join(block) + "\n"


def main(source: str, target: str) -> None:
    Path(target).write_text(HEADER + uv_block(Path(source).read_text()))


if __name__ == "__main__":
    main(*sys.argv[1:3])
