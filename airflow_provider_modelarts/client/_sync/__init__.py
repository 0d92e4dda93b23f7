"""GENERATED from ``client/_async`` by ``scripts/unasync.py`` -- the sync client; do not edit."""
