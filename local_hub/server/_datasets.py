"""Dataset repos on the local Hub: a folder of files per repo, served the way huggingface.co serves them.

Why it exists: ``hubgenome import-snapshot`` downloads the paper's published dataset with the real
``huggingface_hub`` client (``snapshot_download(repo_type="dataset")``). Offline, that path can only
be proven against a server answering the same routes, so the local Hub can also serve a folder of
dataset repos (``--datasets DIR``, laid out ``DIR/<owner>/<name>/<files>``).

Routes (what ``snapshot_download`` / ``hf_hub_download`` / ``dataset_info`` call):

* ``GET /api/datasets/{repo_id}[/revision/{rev}]``: the dataset info, with ``sha`` and ``siblings``;
* ``GET /api/datasets/{repo_id}/tree/{rev}[/{path}][?recursive=true]``: the file listing;
* ``GET|HEAD /datasets/{repo_id}/resolve/{rev}/{path}``: a file, with ``ETag`` (its git blob sha),
  ``X-Repo-Commit`` and ``Content-Length`` as the Hub sends them.

The commit sha of a repo is derived from its files' paths and blob shas, so it changes when a file
changes; ``main`` and that sha are the only revisions. Blob shas are cached per (path, size, mtime).
Errors carry the Hub's ``X-Error-Code`` (``RepoNotFound``, ``RevisionNotFound``, ``EntryNotFound``)
so the client raises its own typed errors.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import threading
from dataclasses import dataclass
from pathlib import Path

import orjson
from starlette.requests import Request
from starlette.responses import FileResponse, Response

#: ``/datasets/{owner}/{name}/resolve/{revision}/{path}`` (counted in the resolvers bucket).
DATASET_RESOLVER_PATH = re.compile(
    r"^/datasets/(?P<repo>[^/]+/[^/]+)/(?:resolve|raw)/(?P<revision>[^/]+)/(?P<filename>.+)$"
)
_JSON = "application/json"
_BLOCK = 1 << 20


def _error(status: int, message: str, code: str | None = None) -> Response:
    headers = {"X-Error-Message": message.encode("ascii", "replace").decode()}
    if code is not None:
        headers["X-Error-Code"] = code
    return Response(orjson.dumps({"error": message}), status, headers, _JSON)


def _blob_sha(path: Path, size: int) -> str:
    """The git blob sha1 of a file (``sha1(b"blob <size>\\0" + content)``), read in blocks."""
    digest = hashlib.sha1(b"blob %d\0" % size)
    with path.open("rb") as handle:
        while block := handle.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class DatasetFile:
    """One file of a dataset repo."""

    path: str
    size: int
    blob_id: str
    local: Path


@dataclass(frozen=True)
class DatasetRepo:
    """A dataset repo as served now: its files and the commit sha derived from them."""

    repo_id: str
    sha: str
    last_modified: dt.datetime
    files: tuple[DatasetFile, ...]

    def file(self, path: str) -> DatasetFile | None:
        return next((item for item in self.files if item.path == path), None)


class DatasetStore:
    """The dataset repos under one folder (``<root>/<owner>/<name>/...``), read on each request."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).expanduser().resolve()
        self._blob_cache: dict[tuple[str, int, int], str] = {}
        self._lock = threading.Lock()

    def repo(self, repo_id: str) -> DatasetRepo | None:
        """The repo ``owner/name``, or None if there is no such folder (ids match case-insensitively)."""
        owner, _, name = repo_id.partition("/")
        if not owner or not name or "/" in name or ".." in (owner, name):
            return None
        folder = self._find(owner, name)
        if folder is None:
            return None
        files = []
        newest = 0.0
        for local in sorted(path for path in folder.rglob("*") if path.is_file()):
            relative = local.relative_to(folder).as_posix()
            if relative.startswith(".") or "/." in relative:
                continue  # hidden files (.git, .cache of a local_dir download) are not repo content
            stat = local.stat()
            newest = max(newest, stat.st_mtime)
            files.append(DatasetFile(relative, stat.st_size, self._blob(local, stat.st_size, stat.st_mtime_ns), local))
        listing = "\n".join(f"{item.path}\0{item.blob_id}" for item in files)
        sha = hashlib.sha1(f"hubgenome-dataset:{repo_id.lower()}\n{listing}".encode()).hexdigest()
        modified = dt.datetime.fromtimestamp(newest, dt.UTC)
        return DatasetRepo(f"{folder.parent.name}/{folder.name}", sha, modified, tuple(files))

    def _find(self, owner: str, name: str) -> Path | None:
        exact = self.root / owner / name
        if exact.is_dir():
            return exact
        for owner_dir in (p for p in self.root.iterdir() if p.is_dir() and p.name.lower() == owner.lower()):
            for repo_dir in owner_dir.iterdir():
                if repo_dir.is_dir() and repo_dir.name.lower() == name.lower():
                    return repo_dir
        return None

    def _blob(self, path: Path, size: int, mtime_ns: int) -> str:
        key = (str(path), size, mtime_ns)
        with self._lock:
            cached = self._blob_cache.get(key)
        if cached is None:
            cached = _blob_sha(path, size)
            with self._lock:
                self._blob_cache[key] = cached
        return cached


def _store(request: Request) -> DatasetStore | None:
    return request.app.state.hub.datasets


def _repo_and_revision(store: DatasetStore | None, repo_id: str, revision: str | None) -> DatasetRepo | Response:
    repo = store.repo(repo_id) if store is not None else None
    if repo is None:
        return _error(404, f"Repository not found: {repo_id}", "RepoNotFound")
    if revision is not None and revision not in ("main", repo.sha):
        return _error(404, f"Invalid rev id: {revision}", "RevisionNotFound")
    return repo


def _info(repo: DatasetRepo) -> dict:
    return {
        "_id": repo.sha[:24],
        "id": repo.repo_id,
        "author": repo.repo_id.split("/")[0],
        "sha": repo.sha,
        "lastModified": repo.last_modified.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "private": False,
        "gated": False,
        "disabled": False,
        "downloads": 0,
        "likes": 0,
        "tags": [],
        "siblings": [{"rfilename": item.path} for item in repo.files],
    }


def _folder_entry(path: str) -> dict:
    return {"type": "directory", "oid": hashlib.sha1(path.encode()).hexdigest(), "size": 0, "path": path}


def _tree(repo: DatasetRepo, folder: str, recursive: bool) -> list[dict]:
    prefix = f"{folder.strip('/')}/" if folder.strip("/") else ""
    entries: dict[str, dict] = {}
    for item in repo.files:
        if not item.path.startswith(prefix):
            continue
        parts = item.path[len(prefix) :].split("/")
        if recursive or len(parts) == 1:
            for depth in range(1, len(parts)):  # the folders on the way, as the Hub lists them
                sub = prefix + "/".join(parts[:depth])
                entries.setdefault(sub, _folder_entry(sub))
            entries[item.path] = {"type": "file", "oid": item.blob_id, "size": item.size, "path": item.path}
        else:
            entries.setdefault(prefix + parts[0], _folder_entry(prefix + parts[0]))
    return [entries[key] for key in sorted(entries)]


async def dataset_api(request: Request) -> Response:
    """``GET /api/datasets/{repo_id}[/revision/{rev}|/tree/{rev}[/{path}]]``."""
    path = request.path_params["repo_path"]
    parts = path.split("/")
    if len(parts) < 2:
        return _error(404, f"Repository not found: {path}", "RepoNotFound")
    repo_id = "/".join(parts[:2])
    rest = parts[2:]
    store = _store(request)
    if not rest:
        found = _repo_and_revision(store, repo_id, None)
        return found if isinstance(found, Response) else Response(orjson.dumps(_info(found)), 200, None, _JSON)
    if rest[0] == "revision" and len(rest) == 2:
        found = _repo_and_revision(store, repo_id, rest[1])
        return found if isinstance(found, Response) else Response(orjson.dumps(_info(found)), 200, None, _JSON)
    if rest[0] == "tree" and len(rest) >= 2:
        found = _repo_and_revision(store, repo_id, rest[1])
        if isinstance(found, Response):
            return found
        folder = "/".join(rest[2:])
        recursive = request.query_params.get("recursive", "").lower() in ("1", "true")
        entries = _tree(found, folder, recursive)
        if folder and not entries:
            return _error(404, f"Entry not found: {folder}", "EntryNotFound")
        return Response(orjson.dumps(entries), 200, None, _JSON)
    return _error(404, "Not Found")


async def dataset_resolve(request: Request) -> Response:
    """``GET|HEAD /datasets/{repo_id}/resolve/{rev}/{path}``: the file itself."""
    match = DATASET_RESOLVER_PATH.match(request.url.path)
    if match is None:
        return _error(404, "Not Found")
    found = _repo_and_revision(_store(request), match["repo"], match["revision"])
    if isinstance(found, Response):
        return found
    item = found.file(match["filename"])
    if item is None:
        return _error(404, f"Entry not found: {match['filename']}", "EntryNotFound")
    headers = {"ETag": f'"{item.blob_id}"', "X-Repo-Commit": found.sha}
    return FileResponse(item.local, headers=headers, media_type="application/octet-stream")
