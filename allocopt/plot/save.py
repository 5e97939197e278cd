"""Writing a figure to a file: PNG, SVG or PDF by suffix, atomically, the same bytes for the
same figure (no timestamps), a PNG carrying an optional ``Description``."""

from __future__ import annotations

from pathlib import Path

import matplotlib
from matplotlib.figure import Figure

from allocopt.results.files import atomic_write

FORMATS = (".png", ".svg", ".pdf")
NO_DATE = {".png": {"Software": None}, ".svg": {"Date": None}, ".pdf": {"CreationDate": None}}


def save_figure(
    fig: Figure, path: str | Path, dpi: int = 200, description: str | None = None
) -> Path:
    """Write ``fig`` as PNG, SVG or PDF (by suffix) atomically, without a timestamp, so the
    same figure gives the same bytes; ``description`` goes into the PNG's ``Description`` text
    chunk (ignored for SVG and PDF)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"{path}: figure format must be one of {', '.join(FORMATS)}")
    metadata = dict(NO_DATE[suffix])
    if description is not None and suffix == ".png":
        metadata["Description"] = description
    with matplotlib.rc_context({"svg.hashsalt": "allocopt"}):  # stable SVG ids
        atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=dpi, metadata=metadata))
    return path
