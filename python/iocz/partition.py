"""The FHE work of one partition: encrypted partial counts of its weighted pairs. Runs in the
scanning process or on a Spark executor (it needs only the loaded query set)."""

from __future__ import annotations

from typing import Any

import polars as pl

from iocz import _iocz

# count_partition uses the `.fhe` expression namespace (pl.col(...).fhe), which importing
# iocz.expr registers: imported here for that side effect, not left to another import of it.
from iocz import expr as _fhe_namespace  # noqa: F401
from iocz.bundles import QuerySet
from iocz.checkpoint import PartitionCounts
from iocz.engines.base import PAIR_GROUP, PAIR_VALUE, PAIR_WEIGHT
from iocz.expr import Bits, KernelName


def group_key(value: Any) -> str | None:
    """A group value as the result names it (text; None for null)."""
    return None if value is None else str(value)


def _group_indices(frame: pl.DataFrame) -> tuple[pl.Series, list[str | None]]:
    """Each pair's group index (UInt32) and the group keys in index order."""
    keys = frame.get_column(PAIR_GROUP).unique().sort(nulls_last=True)
    index = pl.DataFrame({PAIR_GROUP: keys, "__i": pl.int_range(0, keys.len(), eager=True, dtype=pl.UInt32)})
    joined = frame.select(PAIR_GROUP).join(index, on=PAIR_GROUP, how="left", nulls_equal=True, maintain_order="left")
    return joined.get_column("__i"), [group_key(k) for k in keys.to_list()]


def count_partition(
    frame: pl.DataFrame,
    qset: QuerySet,
    grouped: bool,
    bits: Bits,
    kernel: KernelName,
    bins: tuple[int, int] | None = None,
) -> PartitionCounts:
    """Encrypted (per-IOC, total) partial counts of the pairs ``frame`` (value, [group,] weight),
    per group key. With groups every comparison runs once for all groups (each group only
    weighs them). ``bins``: a lookup partition is a range of lookup bins over all the pairs."""
    values, weights = frame.get_column(PAIR_VALUE), frame.get_column(PAIR_WEIGHT)
    if grouped or kernel == "lookup":
        if grouped:
            groups, keys = _group_indices(frame)
        else:
            groups, keys = pl.zeros(frame.height, dtype=pl.UInt32, eager=True), [None]
        counts = _iocz.count_grouped(
            values, groups, len(keys), qset.set.set_id, bits, 0, qset.match, kernel, weights, bins
        )
        return dict(zip(keys, counts, strict=True))
    col = pl.col(PAIR_VALUE).fhe
    opts: dict[str, Any] = {"match": qset.match, "bits": bits, "kernel": kernel, "weights": PAIR_WEIGHT}
    per_ioc = col.count_per_ioc(qset.set, **opts).alias("per_ioc")
    single = qset.set.single_candidate(qset.match)
    any_ioc = col.count_in(qset.set, **opts).alias("total")
    row = frame.select([per_ioc] if single else [per_ioc, any_ioc]).row(0, named=True)
    # One candidate per row: rows matching any IOC = Σ per-IOC counts (no second pass).
    total = _iocz.total_count(row["per_ioc"]) if single else row["total"]
    return {None: (row["per_ioc"], total)}
