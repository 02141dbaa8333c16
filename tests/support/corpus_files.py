"""Corpus folders written and read in code, in the layout of shared/hubdata (``models-NN.jsonl.gz``, ...)."""

from __future__ import annotations

import gzip
import itertools
from collections.abc import Iterable
from pathlib import Path

import orjson


def write_jsonl_gz(path: Path, rows: Iterable[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wb") as handle:
        for row in rows:
            handle.write(orjson.dumps(row) + b"\n")


def read_jsonl_gz(paths: Iterable[Path]) -> list[dict]:
    rows: list[dict] = []
    for path in sorted(paths):
        with gzip.open(path, "rb") as handle:
            rows.extend(orjson.loads(line) for line in handle if line.strip())
    return rows


def corpus_models(corpus: Path) -> list[dict]:
    return read_jsonl_gz(corpus.glob("models-*.jsonl.gz"))


def corpus_cards(corpus: Path) -> dict[str, str]:
    return {row["id"]: row["readme"] for row in read_jsonl_gz(corpus.glob("cards-*.jsonl.gz"))}


def write_corpus(
    folder: Path,
    models: list[dict],
    cards: dict[str, str] | None = None,
    details: list[dict] | None = None,
    files: int = 1,
) -> Path:
    """Write (or replace) a corpus: ``models`` dealt over ``files`` models files, cards and details."""
    for old in folder.glob("*.jsonl.gz"):
        old.unlink()
    for index in range(files):
        write_jsonl_gz(folder / f"models-{index:02d}.jsonl.gz", models[index::files])
    if cards is not None:
        write_jsonl_gz(folder / "cards-00.jsonl.gz", ({"id": key, "readme": text} for key, text in cards.items()))
    if details is not None:
        write_jsonl_gz(folder / "details-00.jsonl.gz", details)
    return folder


def slice_corpus(source: Path, target: Path, *, models: int) -> list[str]:
    """Copy the first ``models`` objects of a corpus (and their details) into ``target``."""
    with gzip.open(sorted(source.glob("models-*.jsonl.gz"))[0], "rb") as handle:
        rows = [orjson.loads(line) for line in itertools.islice(handle, models)]
    write_jsonl_gz(target / "models-00.jsonl.gz", rows)
    return [row["id"] for row in rows]


def tiny_model(model_id: str, *, created: str, modified: str | None = None, **extra) -> dict:
    """A listing object shaped like the Hub's, for ``model_id`` created (and modified) at the given times."""
    model = {
        "_id": f"{abs(hash(model_id)) % 16**24:024x}",
        "id": model_id,
        "modelId": model_id,
        "author": model_id.split("/")[0],
        "sha": f"{abs(hash(model_id + (modified or created))) % 16**40:040x}",
        "createdAt": created,
        "lastModified": modified or created,
        "private": False,
        "gated": False,
        "disabled": False,
        "downloads": 10,
        "likes": 1,
        "tags": ["transformers", "license:mit"],
        "pipeline_tag": "text-generation",
        "library_name": "transformers",
    }
    model.update(extra)
    return model
