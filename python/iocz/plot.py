"""Bar charts of decrypted counts with matplotlib (the ``notebook`` extra).

:func:`plot_counts` draws on pyplot's current figure machinery, so Jupyter shows the chart
inline under the cell (and a script's ``plt.show()`` opens it); the returned ``Axes`` saves it
with ``ax.figure.savefig(path)``. Nothing is decrypted or computed on ciphertexts here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, Protocol

import polars as pl

if TYPE_CHECKING:
    from matplotlib.axes import Axes


#: Bars drawn at most (the largest counts); the title says how many were left out.
TOP = 30


class Decrypted(Protocol):
    """What a chart reads of :class:`iocz.Decrypted`."""

    counts: pl.DataFrame
    totals: pl.DataFrame
    metadata: dict[str, Any]


def _short(ioc: str) -> str:
    return ioc if len(ioc) <= 24 else ioc[:20] + "…"


def _bars(d: Decrypted, by: Literal["ioc", "group"]) -> pl.DataFrame:
    """``name``, ``count``, ``saturated`` per bar, largest first. Counts of one IOC (or one
    group's matching rows) are added over groups (or nothing); several scanned columns keep
    their own bars: a row may match in more than one column."""
    if by == "ioc":
        frame, value = d.counts, "count"
        name = pl.when(pl.col("label") != "").then(pl.col("label") + " (" + pl.col("short") + ")")
        frame = frame.with_columns(short=pl.col("ioc").map_elements(_short, return_dtype=pl.String))
        frame = frame.with_columns(name=name.otherwise(pl.col("short")))
    elif by == "group":
        frame, value = d.totals.drop_nulls("rows_matching_any"), "rows_matching_any"
        frame = frame.with_columns(name=pl.col("group").fill_null("all rows"))
    else:
        raise ValueError(f'by must be "ioc" or "group", not {by!r}')
    if frame.select(pl.struct("type", "column").n_unique()).item() > 1:
        frame = frame.with_columns(name=pl.col("name") + " · " + pl.col("column"))
    return (
        frame.group_by("name", maintain_order=True)
        .agg(pl.col(value).sum().alias("count"), pl.col("saturated").any())
        .sort("count", descending=True, maintain_order=True)
    )


def plot_counts(d: Decrypted, by: Literal["ioc", "group"] = "ioc", *, ax: Axes | None = None, top: int = TOP) -> Axes:
    """Horizontal bars of the decrypted counts: per IOC (its label and the start of its value;
    summed over groups) or per group (rows matching any IOC). Saturated counts are hatched
    and marked ``>=``. Draws on ``ax`` or a new figure; returns the axes."""
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("plotting needs matplotlib: pip install 'iocz[notebook]'") from None
    bars = _bars(d, by)
    shown = bars.head(top)
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 1 + 0.3 * max(shown.height, 1)), layout="constrained")
    drawn = ax.barh(shown["name"].to_list(), shown["count"].to_list())
    for bar, saturated in zip(drawn, shown["saturated"], strict=True):
        if saturated:
            bar.set_hatch("//")
    labels = [f">= {n:,}" if s else f"{n:,}" for n, s in shown.select("count", "saturated").iter_rows()]
    ax.bar_label(drawn, labels, padding=3)
    ax.margins(x=0.15)  # room for the labels
    ax.invert_yaxis()
    ax.set_xlabel("rows matching the IOC" if by == "ioc" else "rows matching any IOC")
    cut = f" (largest {top} of {bars.height})" if bars.height > top else ""
    per = "IOC" if by == "ioc" else "group"
    ax.set_title(f"decrypted counts of query {str(d.metadata.get('query', '?'))[:16]}, per {per}{cut}")
    return ax
