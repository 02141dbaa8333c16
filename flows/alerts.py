"""Telling a human that an unattended run failed: a JSON POST to a webhook of their choice.

Set ``HUBGENOME_ALERT_WEBHOOK`` to any URL that accepts a JSON body (a Slack/Mattermost incoming
webhook, ntfy, a small relay of your own). The body carries ``text`` (one readable line, which chat
webhooks display) and ``summary`` (the whole run summary). Uses the standard library only: the
alert must go out even when the Hub session or its configuration is what broke.
"""

from __future__ import annotations

import json
import logging
import os
import urllib.error
import urllib.request

logger = logging.getLogger(__name__)

WEBHOOK_ENV = "HUBGENOME_ALERT_WEBHOOK"


def webhook_url() -> str | None:
    """The configured webhook (``HUBGENOME_ALERT_WEBHOOK``), or None."""
    return os.environ.get(WEBHOOK_ENV) or None


def post_alert(url: str, payload: dict, *, timeout: float = 10.0) -> bool:
    """POST ``payload`` as JSON to ``url``; returns whether it was accepted (2xx). Never raises.

    Examples
    --------
    >>> post_alert("http://127.0.0.1:9/hook", {"text": "nightly run failed"})  # doctest: +SKIP
    False
    """
    body = json.dumps(payload, default=str).encode()
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json", "User-Agent": "hubgenome"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            ok = 200 <= response.status < 300
    except (urllib.error.URLError, OSError, ValueError) as exc:
        logger.warning("could not deliver the alert to %s: %s", url, exc)
        return False
    if not ok:
        logger.warning("the alert webhook %s answered HTTP %s", url, response.status)
    return ok


def alert_failure(summary: dict, *, url: str | None = None) -> bool:
    """Send the failure alert of a pipeline run when a webhook is configured; returns whether one went out."""
    url = url or webhook_url()
    if not url:
        return False
    stage = summary.get("failed_stage") or "?"
    text = (
        f"hubgenome nightly pipeline {summary.get('pipeline_run_id')} failed at stage {stage!r}: "
        f"{summary.get('error')}. The last published warehouse is still serving; the next run resumes."
    )
    return post_alert(url, {"text": text, "summary": summary})


def alert_incomplete(summary: dict, audit: dict, *, url: str | None = None) -> bool:
    """Send the alert of a run whose audit found public models missing; returns whether one went out."""
    url = url or webhook_url()
    if not url:
        return False
    sample = ", ".join(audit.get("missing_public", {}).get("sample", [])[:5])
    text = (
        f"hubgenome nightly pipeline {summary.get('pipeline_run_id')}: the audit found {audit.get('missing')} public "
        f"models missing against id sweep {audit.get('sweep_crawl_id')} (e.g. {sample}). "
        "Run `hubgenome audit` for the details; the next run reconciles them."
    )
    return post_alert(url, {"text": text, "summary": summary, "audit": audit})
