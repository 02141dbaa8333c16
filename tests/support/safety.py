"""A slice of the real ``hub-2024-07`` corpus around the models JailbreakBench evaluated, landed and built.

The slice is what the family safety view needs and nothing more, so a test builds it in seconds:
every descendant of ``meta-llama/Llama-2-7b-chat-hf`` and ``lmsys/vicuna-13b-v1.5`` (through every
``base_model:`` tag, any relation), every other parent those descendants name (so merges resolve as
on the whole Hub), and the most downloaded models outside those families (unrelated ones the view
must leave alone). The listing objects are the corpus's own, landed as one crawl.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict, deque
from dataclasses import dataclass
from pathlib import Path

import duckdb

from tests.support.landings import land_crawl

LLAMA = "meta-llama/Llama-2-7b-chat-hf"
VICUNA = "lmsys/vicuna-13b-v1.5"
UNRELATED = 150


@dataclass(frozen=True)
class HubSlice:
    """The listing objects of the slice, and its lineage as the corpus's tags declare it."""

    models: list[dict]
    #: parent id -> ids of the models naming it in a ``base_model:`` tag (exact ids only)
    children: dict[str, list[str]]

    def downloads(self, model_id: str) -> int:
        return next(m.get("downloads") or 0 for m in self.models if m["id"] == model_id)

    def distances_from(self, root: str) -> dict[str, int]:
        """Breadth-first: each descendant of ``root`` and its fewest tag edges from it (``root`` at 0)."""
        distance = {root: 0}
        queue = deque([root])
        while queue:
            parent = queue.popleft()
            for child in self.children.get(parent, []):
                if child not in distance:
                    distance[child] = distance[parent] + 1
                    queue.append(child)
        return distance


def _parents(tags: list[str] | None) -> list[str]:
    return [tag.removeprefix("base_model:") for tag in tags or [] if tag.startswith("base_model:")]


def hub_slice(corpus: Path) -> HubSlice:
    """The slice of ``corpus`` (hub-2024-07) described in the module docstring."""
    files = str(corpus / "models-*.jsonl.gz")
    with duckdb.connect() as con:
        con.execute(
            "create table listing as select id, coalesce(downloads, 0) as downloads, tags "
            "from read_json(?, columns = {'id': 'varchar', 'downloads': 'bigint', 'tags': 'varchar[]'})",
            [files],
        )
        edges = con.execute(
            "select substr(tag, 12) as parent, child from (select id as child, unnest(tags) as tag from listing) "
            "where starts_with(tag, 'base_model:') order by all"
        ).fetchall()
        children: dict[str, list[str]] = defaultdict(list)
        parents: dict[str, list[str]] = defaultdict(list)
        for parent, child in edges:
            children[parent].append(child)
            parents[child].append(parent)
        whole = HubSlice(models=[], children=children)
        subtree = set(whole.distances_from(LLAMA)) | set(whole.distances_from(VICUNA))
        chosen = subtree | {parent for model_id in subtree for parent in parents[model_id]}
        con.execute("create table chosen (id varchar)")
        con.executemany("insert into chosen values (?)", [[model_id] for model_id in sorted(chosen)])
        con.execute(
            "insert into chosen select id from listing where id not in (select id from chosen) "
            "and coalesce(len(list_filter(tags, lambda t: starts_with(t, 'base_model:'))), 0) = 0 "
            f"order by downloads desc, id limit {UNRELATED}"
        )
        objects = con.execute(
            "select json from read_ndjson_objects(?) where json ->> 'id' in (select id from chosen) "
            "order by json ->> 'id'",
            [files],
        ).fetchall()
    models = [json.loads(line) for (line,) in objects]
    kept = {m["id"] for m in models}
    kept_children = {
        parent: sorted(child for child in ids if child in kept) for parent, ids in children.items() if parent in kept
    }
    return HubSlice(models=models, children=kept_children)


def land_slice(raw_db: Path, lineage: HubSlice) -> None:
    """Land the slice's listing objects as one full crawl."""
    land_crawl(raw_db, lineage.models)


def reference_rows(path: Path) -> list[dict[str, str]]:
    """The rows of ``jailbreakbench-2024.csv``, read with the csv module (not through the seed)."""
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))
