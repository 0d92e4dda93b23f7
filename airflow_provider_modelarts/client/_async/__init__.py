"""The async client: the source both clients are written from (``scripts/unasync.py`` writes ``_sync``)."""
