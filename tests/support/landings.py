"""Raw landings written in code through ``hubgenome.flows.landing`` (no server, no crawl), and a tiny ecosystem."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from pathlib import Path

from hubgenome.flows import landing


def model(model_id: str, *, tags: Iterable[str] = (), **fields: object) -> dict:
    """A listing object shaped like the Hub's, with sensible defaults."""
    payload = {
        "id": model_id,
        "_id": f"oid-{model_id}",
        "author": model_id.split("/")[0] if "/" in model_id else None,
        "sha": f"sha-{model_id}",
        "createdAt": "2024-01-01T00:00:00.000Z",
        "lastModified": "2024-02-01T00:00:00.000Z",
        "private": False,
        "gated": False,
        "disabled": False,
        "downloads": 10,
        "likes": 1,
        "tags": list(tags),
        "pipeline_tag": "text-generation",
        "library_name": "transformers",
    }
    payload.update(fields)
    return payload


def land_crawl(
    raw_db: Path,
    models: list[dict],
    *,
    mode: str = "full",
    cards: dict[str, str] | None = None,
    started_at: dt.datetime | None = None,
) -> str:
    """Land one succeeded crawl of ``models`` (and their cards) through hubgenome.flows.landing."""
    con = landing.connect(raw_db)
    try:
        run = landing.start_run(con, mode=mode, endpoint="http://hub.test", sort_by=None, expand=[], first_url="u")
        if started_at is not None:
            con.execute("update crawl_runs set started_at = ? where crawl_id = ?", [started_at, run.crawl_id])
        landing.land_page(
            con,
            crawl_id=run.crawl_id,
            page_number=1,
            url="u",
            next_url=None,
            model_ids=[m["id"] for m in models],
            payloads=[json.dumps(m) for m in models],
        )
        fetches = [
            landing.CardFetch(model_id=model_id, model_sha=None, status="ok", http_status=200, card_text=text)
            for model_id, text in (cards or {}).items()
        ]
        landing.land_cards(con, run.crawl_id, fetches)
        landing.finish_run(con, run.crawl_id)
    finally:
        con.close()
    return run.crawl_id


LLAMA_CARD = "---\nlicense: llama3\n---\n# Model card\n## Uses\nBase model.\n"
AUTO_CARD = (
    "---\nlicense: apache-2.0\nbase_model: org/base\n---\n# a/ft\n"
    "This model card has been automatically generated.\n## Training\n"
)
BROKEN_CARD = "---\nlicense: [mit\n\tbad: indent\n---\n# Broken\n"


def tiny_models() -> list[dict]:
    """A hand-built ecosystem whose lineage is known: every rule has a case."""
    return [
        model("org/base", tags=["license:llama3", "en", "fr"], cardData={"license": "llama3"}),
        model(
            "a/ft",
            tags=["base_model:org/base", "base_model:finetune:org/base", "license:apache-2.0", "en"],
            cardData={"license": "apache-2.0", "base_model": "org/base"},
        ),
        model("a/q", tags=["base_model:a/ft", "gguf", "license:apache-2.0"], gguf={"total": 1}),
        model(
            "a/merge",
            tags=["base_model:org/base", "base_model:other/x", "license:mit"],
            cardData={"base_model": ["org/base", "other/x"]},
        ),
        model("other/x", tags=["license:cc-by-nc-4.0", "zh"]),
        model("a/lora", tags=["base_model:ORG/BASE", "peft"], library_name="peft"),
        model("a/dangling", tags=["base_model:gpt2"]),
        model("a/self", tags=["base_model:a/self"]),
        model("c/x", tags=["base_model:c/y"]),
        model("c/y", tags=["base_model:c/x"]),
        model("c/z", tags=["base_model:c/y"]),
        model("solo/model", gated="manual"),
    ]
