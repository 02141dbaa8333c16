"""Shared by the local Hub server tests: a tiny corpus written in code, and reading the server's answers."""

from __future__ import annotations

import httpx2
from huggingface_hub.utils import hf_raise_for_status


def make_model(number: int, **overrides: object) -> dict:
    """A listing object shaped like the Hub's, with values that tie and go missing on purpose."""
    org = ("acme", "zeta", "Mixed-Case")[number % 3]
    model = {
        "_id": f"{0x650000000000000000000000 + number * 7919:024x}",
        "id": f"{org}/model-{number:03d}",
        "modelId": f"{org}/model-{number:03d}",
        "author": org,
        "sha": f"{number:040x}",
        "createdAt": f"2024-0{1 + number % 9}-{10 + number % 17}T12:00:00.000Z",
        "lastModified": f"2024-1{number % 3}-{10 + number % 13}T08:30:00.000Z",
        "private": False,
        "gated": False,
        "disabled": False,
        "downloads": (number * 37) % 11,  # ties
        "likes": number % 4,
        "trendingScore": number % 5 - 1,
        "tags": ["transformers", f"license:{('mit', 'apache-2.0')[number % 2]}"]
        + ([f"base_model:finetune:acme/model-{number - 1:03d}"] if number % 4 == 0 and number else []),
        "pipeline_tag": "text-generation",
        "library_name": "transformers",
        "cardData": {"license": "mit"},
        "siblings": [{"rfilename": "README.md"}],
    }
    if number % 7 == 3:  # some values missing: they sort last
        del model["downloads"]
        del model["lastModified"]
        model["trendingScore"] = None
    model.update(overrides)
    return model


TINY_MODELS = [make_model(number) for number in range(25)]
EXTRA_MODELS = [
    make_model(90, id="gpt2", modelId="gpt2"),  # legacy id without namespace
    make_model(91, id="acme/gated-auto", gated="auto"),
    make_model(92, id="acme/gated-manual", gated="manual"),
    make_model(93, id="acme/disabled", disabled=True),
]
ALL_MODELS = TINY_MODELS + EXTRA_MODELS
CARD_TEXT = "---\nlicense: mit\n---\n\n# Ünïcödé card ✓\r\nwith CRLF, tabs\tand a trailing newline\n"


def walk(url: str, params: list[tuple[str, str]] | dict | None = None) -> tuple[list[dict], list[httpx2.Response]]:
    """Follow the Link headers from the first page; returns all objects and every response."""
    objects: list[dict] = []
    responses = []
    with httpx2.Client(timeout=30) as client:
        response = client.get(f"{url}/api/models", params=params)
        while True:
            assert response.status_code == 200, response.text
            responses.append(response)
            objects.extend(response.json())
            next_url = response.links.get("next", {}).get("url")
            if next_url is None:
                return objects, responses
            response = client.get(next_url)


def raised_by(response: httpx2.Response) -> type[Exception] | None:
    """The exception ``huggingface_hub`` raises for this answer, or None when it raises none."""
    try:
        hf_raise_for_status(response)
    except Exception as exc:
        return type(exc)
    return None
