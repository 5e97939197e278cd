"""``python -m allocopt.cli``: the ``allocopt`` command."""

from __future__ import annotations

from allocopt.cli import app

if __name__ == "__main__":
    app()
