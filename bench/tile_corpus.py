"""Build the 3,040,000-model benchmark corpus: hub-2024-07 tiled four times under renamed namespaces.

Tile ``k`` renames every model id ``owner/name`` to ``t<k>-owner/name`` (un-namespaced legacy ids
``name`` to ``t<k>-name``) and rewrites the ``base_model:`` tags the same way, so each tile keeps
its own copy of the lineage (dangling parents stay dangling, case mismatches stay mismatched).
The output folder has the corpus layout (``models-NN.jsonl.gz``) and lives under the data dir,
never in the repository.

    .venv/bin/python bench/tile_corpus.py [--source ../shared/hubdata/hub-2024-07] [--tiles 4] [--out DIR]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import duckdb

from hubgenome.core.paths import resolve_data_dir

REPO = Path(__file__).resolve().parents[1]


def _rename(expression: str, tile: int) -> str:
    return f"'t{tile}-' || {expression}"


def tile_corpus(source: Path, out: Path, tiles: int = 4) -> int:
    """Write ``tiles`` renamed copies of ``source`` into ``out``; returns the number of models."""
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("models-*.jsonl.gz"):
        old.unlink()
    con = duckdb.connect()
    con.execute("set enable_progress_bar = false")
    files = [str(p) for p in sorted(source.glob("models-*.jsonl.gz"))]
    total = 0
    for tile in range(1, tiles + 1):
        target = out / f"models-{tile - 1:02d}.jsonl.gz"
        con.execute(
            f"""
            copy (
                select json_merge_patch(json, json_object(
                    'id', {_rename("json_extract_string(json, '$.id')", tile)},
                    'modelId', {_rename("json_extract_string(json, '$.id')", tile)},
                    '_id', 't{tile}' || coalesce(json_extract_string(json, '$._id'), ''),
                    'tags', list_transform(
                        cast(json_extract(json, '$.tags') as varchar[]),
                        lambda tag: case
                            when starts_with(tag, 'base_model:')
                                then regexp_replace(
                                    tag,
                                    '^(base_model:(?:(?:finetune|adapter|quantized|merge):)?)(.*)$',
                                    '\\1t{tile}-\\2'
                                )
                            else tag
                        end
                    )
                )) as json
                from read_ndjson_objects(?, format = 'newline_delimited')
            ) to '{target}' (format csv, header false, quote '', escape '', delimiter '\\x01', compression gzip)
            """,
            [files],
        )
        total += con.execute(f"select count(*) from read_ndjson_objects('{target}')").fetchone()[0]
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=REPO.parent / "shared" / "hubdata" / "hub-2024-07")
    parser.add_argument("--tiles", type=int, default=4)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    out = args.out or resolve_data_dir() / "bench" / f"hub-2024-07-x{args.tiles}"
    started = time.perf_counter()
    models = tile_corpus(args.source, out, args.tiles)
    print(f"wrote {models:,} models to {out} in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
