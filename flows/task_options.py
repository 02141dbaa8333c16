"""The Prefect options every task that talks to the Hub shares: how it retries, and that it never caches.

They live apart from any one flow so that the crawl, the sweeps, reconciliation, the snapshot
download and the Dask card batches retry alike without importing one another.
"""

from __future__ import annotations

from prefect.cache_policies import NO_CACHE
from prefect.tasks import exponential_backoff

from hubgenome.core.errors import ConfigurationError, HubRequestError


def retry_unless_client_error(task, task_run, state) -> bool:
    """Retry network trouble, never our own mistakes: a configuration error or a 4xx answer."""
    try:
        state.result()
    except (ConfigurationError, HubRequestError):
        return False
    except Exception:
        return True
    return True


#: Options of every task that talks to the Hub: exponential backoff with jitter, no retry on 4xx,
#: no result caching (the landing is the state; a task re-run resumes from its checkpoint).
NETWORK_TASK_OPTIONS: dict = {
    "retry_delay_seconds": exponential_backoff(backoff_factor=10),
    "retry_jitter_factor": 0.5,
    "retry_condition_fn": retry_unless_client_error,
    "cache_policy": NO_CACHE,
}
