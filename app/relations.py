"""The lineage relations a child can have to its parent, and the colour each is drawn in.

Shared by the tree drawing (:mod:`hubgenome.app.tree`), the chart helpers (:mod:`hubgenome.app.ui`)
and the pages, so a relation looks the same everywhere.
"""

from __future__ import annotations

#: Relations of ``fct_lineage_edges`` / ``dim_models.tree_parent_relation``, in display order.
RELATIONS = ("finetune", "adapter", "quantized", "merge")
RELATION_COLOURS = {
    "finetune": "#1f77b4",
    "adapter": "#2ca02c",
    "quantized": "#ff7f0e",
    "merge": "#d62728",
    "root": "#7f7f7f",
}
