"""Draw a family tree as Graphviz DOT that stays readable for families of thousands of models.

Why a module: the drawing rules (depth limit, the most downloaded children first, the rest of a
node's children folded into one "+N more" node per parent, a cap on nodes drawn) are plain Python
that tests can check without a browser; the page only passes the result to ``st.graphviz_chart``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

import polars as pl

from hubgenome.app.relations import RELATION_COLOURS


@dataclass(frozen=True)
class TreeDrawing:
    """A DOT source and what it shows."""

    dot: str
    nodes_drawn: int
    models_drawn: int
    models_folded: int


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _short(model_id: str, width: int = 34) -> str:
    name = model_id.split("/", 1)[-1]
    return name if len(name) <= width else name[: width - 1] + "…"


def family_tree_dot(
    members: pl.DataFrame,
    root: str,
    *,
    max_depth: int = 3,
    max_children: int = 8,
    max_nodes: int = 300,
) -> TreeDrawing:
    """DOT for the family tree of ``root`` from ``members`` (model_id, tree_parent_model_id, relation, downloads).

    Each node shows at most ``max_children`` children (most downloaded first); the others become
    one grey "+N more" node listing their relations. Nodes deeper than ``max_depth`` generations
    below the root are folded into "+N below" on their ancestor, and drawing stops at ``max_nodes``.
    Edges and node borders are coloured by relation (finetune, adapter, quantized, merge).

    Examples
    --------
    >>> members = pl.DataFrame({"model_id": ["a/r", "b/c"], "tree_parent_model_id": [None, "a/r"],
    ...                         "relation": [None, "finetune"], "downloads": [5, 1]})
    >>> family_tree_dot(members, "a/r").models_drawn
    2
    """
    kids: dict[str, list[tuple[str, str, int]]] = defaultdict(list)
    for child, parent, relation, downloads in members.select(
        "model_id", "tree_parent_model_id", "relation", "downloads"
    ).iter_rows():
        if parent is not None and child != parent:
            kids[parent].append((child, relation or "finetune", downloads or 0))
    for values in kids.values():
        values.sort(key=lambda item: (-item[2], item[0]))

    subtree: dict[str, int] = {}

    def size_below(node: str) -> int:  # iterative post-order: families can be deep
        stack, order, seen = [node], [], {node}
        while stack:
            current = stack.pop()
            order.append(current)
            for child, _, _ in kids.get(current, []):
                if child not in seen:
                    seen.add(child)
                    stack.append(child)
        for current in reversed(order):
            subtree[current] = sum(1 + subtree.get(child, 0) for child, _, _ in kids.get(current, []))
        return subtree[node]

    size_below(root)
    lines = [
        "digraph family {",
        '  graph [rankdir=LR, bgcolor="transparent", fontname="Helvetica", ranksep=0.6, nodesep=0.12];',
        '  node [shape=box, style="rounded,filled", fillcolor="#ffffff", fontname="Helvetica", fontsize=10];',
        "  edge [arrowsize=0.6, penwidth=1.4];",
    ]
    node_ids: dict[str, str] = {}
    drawn = folded = more_nodes = 0

    def node(model_id: str, relation: str, depth: int) -> str:
        nonlocal drawn
        key = f"n{len(node_ids)}"
        node_ids[model_id] = key
        below = subtree.get(model_id, 0)
        label = _short(model_id)
        hidden = below if depth >= max_depth and below else 0
        if hidden:
            label += f"\\n+{hidden:,} below"
        colour = RELATION_COLOURS.get(relation, RELATION_COLOURS["root"])
        width = 2.4 if relation == "root" else 1.2
        lines.append(
            f"  {key} [label={_quote(label)}, color={_quote(colour)}, penwidth={width}, tooltip={_quote(model_id)}];"
        )
        drawn += 1
        return key

    queue = [(root, "root", 0)]
    node(root, "root", 0)
    while queue:
        current, _, depth = queue.pop(0)
        if depth >= max_depth:
            folded += subtree.get(current, 0)
            continue
        children = [item for item in kids.get(current, []) if item[0] not in node_ids]
        budget = max(0, min(max_children, max_nodes - len(node_ids)))
        shown, rest = children[:budget], children[budget:]
        for child, relation, _ in shown:
            key = node(child, relation, depth + 1)
            colour = RELATION_COLOURS.get(relation, RELATION_COLOURS["root"])
            lines.append(f"  {node_ids[current]} -> {key} [color={_quote(colour)}];")
            queue.append((child, relation, depth + 1))
        if rest:
            more_nodes += 1
            hidden_models = sum(1 + subtree.get(child, 0) for child, _, _ in rest)
            folded += hidden_models
            mix = Counter(relation for _, relation, _ in rest)
            detail = ", ".join(f"{count:,} {relation}" for relation, count in mix.most_common())
            key = f"more{len(lines)}"
            lines.append(
                f"  {key} [label={_quote(f'+{len(rest):,} more children ({detail})')}, "
                'shape=note, fillcolor="#eeeeee", color="#999999", fontsize=9];'
            )
            lines.append(f'  {node_ids[current]} -> {key} [color="#999999", style=dashed];')
    lines.append("}")
    return TreeDrawing(dot="\n".join(lines), nodes_drawn=drawn + more_nodes, models_drawn=drawn, models_folded=folded)
