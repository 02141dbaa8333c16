"""Recompute the synthetic demo Hub's parameters from the real Hub snapshots in ``shared/hubdata``.

The demo must look like the Hub without shipping Hub data (the corpora are third-party research
data we may not redistribute) and must be the same on every machine, including fresh ones that
have no ``shared/hubdata``. So the generator reads only ``local_hub/demo/params.json``; this script is
how that file is made and checked. It measures:

- ``hub-2024-07`` (the whole public Hub listing, 760,000 models): license, task/library,
  language, dataset and arXiv frequencies; likes and downloads; ``createdAt`` range and growth;
  the lineage skeleton (share of models with a parent, family sizes, depth, out-degree, merges,
  dangling and case-mismatched parents). Its ``details`` sample (8,650 full objects) gives card
  presence, the ``lastModified`` delay and ``cardData`` shapes.
- ``trees-2025-04`` (complete fine-tune trees with typed relations): the relation mix, parent →
  child drift of license, language, task and library, card length and auto-generated cards of
  parents versus children, gating and the shape of ``cardData.base_model``.
- ``cards-2022-02`` (16,590 READMEs of the 2022 Hub): card length, front matter and its
  malformed share, auto-generated share of ordinary (root) models.
- ``anatomy-2025-07`` (published figures, ``shared/reference``) only where no corpus has the
  figure: the auto-generated share of adapter, quantized and merge children.

Every parameter's corpus is recorded in ``params["source"]["parameters"]``. Run it with
``python -m hubgenome.local_hub.demo.calibrate [--hubdata PATH] [--out local_hub/demo/params.json]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import glob
import gzip
import json
import math
import os
import re
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import yaml

from hubgenome.core.errors import CorpusFormatError
from hubgenome.local_hub.demo._text import ISO_639_1

#: Where the real corpora live beside a checkout (``HUBGENOME_HUBDATA`` overrides, as in the tests).
REPO_HUBDATA = Path(__file__).resolve().parents[2].parent / "shared" / "hubdata"
DEFAULT_OUT = Path(__file__).resolve().parent / "params.json"

HUB = "hub-2024-07"
TREES = "trees-2025-04"
CARDS = "cards-2022-02"
REFERENCE = "anatomy-2025-07"

#: What each corpus is and the date of its snapshot (from ``shared/hubdata/README.md``).
CORPUS_DATES = {
    HUB: "2024-07-11",
    TREES: "2025-04-22..2025-04-26",
    CARDS: "2022-02",
    REFERENCE: "2025-07-12",
}

#: Deepest generation the demo generates; deeper real chains (a fraction of a percent of
#: children, mostly one account re-finetuning its own model) are renormalized away.
MAX_DEPTH = 8

#: What the demo chooses rather than measures (written to params["demo"], with the reasons).
DEMO_CHOICES: dict[str, Any] = {
    "max_depth": MAX_DEPTH,
    "showcase_chain_depth": 7,
    "largest_family_cap_share": 0.25,
    "min_quirk_count": 1,
    "why": (
        "Real depths 6-8 are ~0.2% of children, so a 3,000-model demo would show none: the largest "
        "family gets one fine-tune version chain down to showcase_chain_depth (real chains reach 39). "
        "No family takes more than largest_family_cap_share of the children, so one power-law draw "
        "cannot swallow a small demo. Each quirk (dangling, case-mismatched and legacy parents, "
        "malformed front matter, gated, card-less, base_model_relation) appears at least "
        "min_quirk_count times so every code path downstream is exercised."
    ),
}

#: Family-size buckets whose depth distributions are kept apart: big families are deeper.
SIZE_BUCKETS = ((2, 9), (10, 99), (100, None))

#: P(auto-generated card) of adapter, quantized and merge children, read off the paper's
#: figure "model_card_length_and_auto_generated" (reference/anatomy-methods.md §4.4, ±0.01):
#: trees-2025-04 crawled only fine-tune children, so no corpus here has these.
REFERENCE_AUTOGEN_CHILD = {"adapter": 0.29, "quantized": 0.005, "merge": 0.0}

AUTOGEN_PHRASES = ("automatically generated", "generated automatically")

#: A language tag is a two-letter ISO 639-1 code, as in the paper (which used pycountry); the
#: set keeps framework tags such as ``tf`` from counting as languages.
_ISO_SQL = ", ".join(f"'{code}'" for code in sorted(ISO_639_1))
FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(\r?\n|\Z)", re.S)
QUANTIZED_NAME = r"(?i)(gguf|gptq|awq|exl2|bnb-4bit|4bit|8bit|-int4|-int8|mlx)"


def _r(value: float, digits: int = 6) -> float:
    """Round to significant digits so params.json is stable and readable."""
    if value == 0 or not math.isfinite(value):
        return float(value)
    return float(f"{value:.{digits}g}")


def _shares(counter: Counter, total: int, top: int | None = None) -> dict[str, float]:
    """The ``top`` most common keys of a counter as shares of ``total`` (ties broken by key)."""
    items = sorted(counter.items(), key=lambda kv: (-kv[1], str(kv[0])))
    if top is not None:
        items = items[:top]
    return {str(k): _r(v / total) for k, v in items}


def _lognormal(values: Iterable[float]) -> dict[str, float]:
    """Mean and standard deviation of ``ln x`` over positive values, with the median as a check."""
    arr = np.asarray([v for v in values if v > 0], dtype=float)
    if arr.size == 0:
        return {"log_mean": 0.0, "log_sd": 0.0, "median": 0.0, "n": 0}
    logs = np.log(arr)
    return {
        "log_mean": _r(float(logs.mean())),
        "log_sd": _r(float(logs.std())),
        "median": _r(float(np.median(arr))),
        "n": int(arr.size),
    }


def _lognormal_robust(values: Iterable[float]) -> dict[str, float]:
    """A log-normal matched on the median and interquartile range of ``ln x``.

    Card lengths are not log-normal in the body (a mass of near-empty cards skews the log-mean), so
    matching quantiles keeps the typical card the right size while the tail stays heavy.
    """
    arr = np.asarray([v for v in values if v > 0], dtype=float)
    q25, q50, q75 = np.percentile(np.log(arr), [25, 50, 75])
    return {
        "log_mean": _r(float(q50)),
        "log_sd": _r(float((q75 - q25) / 1.34898)),
        "median": _r(float(np.median(arr))),
        "n": int(arr.size),
        "fit": "median and interquartile range of ln(length)",
    }


def _power_law_alpha(values: Iterable[int], xmin: int) -> float:
    """Discrete power-law exponent by the continuous approximation of Clauset et al. (2009), eq. 3.7."""
    arr = np.asarray([v for v in values if v >= xmin], dtype=float)
    return _r(1.0 + arr.size / float(np.log(arr / (xmin - 0.5)).sum()))


def _is_autogenerated(text: str) -> bool:
    lowered = text.lower()
    return any(phrase in lowered for phrase in AUTOGEN_PHRASES)


def _jsonl(paths: Iterable[Path]) -> Iterator[dict[str, Any]]:
    for path in paths:
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    yield json.loads(line)


def _corpus_files(corpus_dir: Path, prefix: str) -> list[Path]:
    files = sorted(Path(p) for p in glob.glob(str(corpus_dir / f"{prefix}-*.jsonl.gz")))
    if not files:
        msg = f"no {prefix}-NN.jsonl.gz in {corpus_dir}; point --hubdata at the shared/hubdata folder"
        raise CorpusFormatError(msg)
    return files


def _require(hubdata: Path, name: str) -> Path:
    path = hubdata / name
    if not path.is_dir():
        msg = (
            f"corpus {name!r} not found under {hubdata}; pass --hubdata with the folder that holds "
            "hub-2024-07, trees-2025-04 and cards-2022-02"
        )
        raise CorpusFormatError(msg)
    return path


# --------------------------------------------------------------------------------------------------
# hub-2024-07: the whole Hub
# --------------------------------------------------------------------------------------------------

_HUB_COLUMNS = (
    "{'id': 'VARCHAR', 'likes': 'BIGINT', 'downloads': 'BIGINT', 'tags': 'VARCHAR[]', "
    "'pipeline_tag': 'VARCHAR', 'library_name': 'VARCHAR', 'createdAt': 'VARCHAR'}"
)


def _load_hub(con: duckdb.DuckDBPyConnection, corpus_dir: Path) -> None:
    files = [str(p) for p in _corpus_files(corpus_dir, "models")]
    con.execute(
        f"create table m as select * from read_json(?, format='newline_delimited', columns={_HUB_COLUMNS})",
        [files],
    )
    # Parent references in tag order: the first one is the tree parent (the rule the demo documents).
    con.execute(
        """
        create table e as
        select id as child, substr(tag, 12) as parent, pos
        from (select id, unnest(tags) as tag, unnest(range(len(tags))) as pos from m)
        where tag like 'base_model:%'
        """
    )
    con.execute("create table ids as select id, lower(id) as lid from m")
    con.execute(
        """
        create table roles as
        select id, likes, downloads,
               case when id in (select parent from e) then 'parent'
                    when id in (select child from e) then 'child'
                    else 'other' end as role
        from m
        """
    )
    con.execute(
        """
        create table e2 as
        select e.*,
               e.parent in (select id from ids) as present,
               e.parent not in (select id from ids) and lower(e.parent) in (select lid from ids) as case_only
        from e
        """
    )


def _hub_traits(con: duckdb.DuckDBPyConnection, role: str) -> dict[str, Any]:
    """Frequencies of licenses, tasks/libraries, languages, datasets and arXiv links of one role."""
    con.execute(f"create or replace temp table r as select m.* from m join roles using (id) where role = '{role}'")
    n = con.execute("select count(*) from r").fetchone()[0]
    licenses = con.execute(
        """
        select lic, count(*) from (
          select list_filter(tags, lambda t: t like 'license:%')[1] as lic from r
        ) group by 1
        """
    ).fetchall()
    license_counts = Counter({(k[8:] if k else None): c for k, c in licenses})
    none = license_counts.pop(None, 0)
    pairs = con.execute(
        "select pipeline_tag, library_name, count(*) c from r group by 1, 2 order by 3 desc, 1, 2 limit 40"
    ).fetchall()
    lang_rows = con.execute(
        f"""
        select langs from (select list_filter(tags, lambda t: len(t) = 2 and t in ({_ISO_SQL})) as langs from r)
        where len(langs) > 0
        """
    ).fetchall()
    with_lang = len(lang_rows)
    lang_presence = Counter(code for (langs,) in lang_rows for code in set(langs))
    lang_counts = Counter(min(len(langs), 100) for (langs,) in lang_rows)

    def _count_stats(prefix: str) -> dict[str, float]:
        with_any, mean = con.execute(
            f"""
            select count(*), avg(k) from (
              select len(list_filter(tags, lambda t: t like '{prefix}:%')) as k from r
            ) where k > 0
            """
        ).fetchone()
        return {"share_with_any": _r(with_any / n), "mean_count_when_any": _r(mean)}

    return {
        "models": n,
        "license": {"none_share": _r(none / n), "top": _shares(license_counts, n, top=24)},
        # (task, library) are drawn jointly so a text-to-image model is not a sentence-transformer.
        "task_library_pairs": [{"pipeline_tag": t, "library_name": lib, "share": _r(c / n)} for t, lib, c in pairs],
        "language": {
            "share_with_any": _r(with_lang / n),
            "count_when_any": {
                str(k): v for k, v in sorted(_shares(lang_counts, with_lang).items(), key=lambda kv: int(kv[0]))
            },
            "top_presence_when_any": _shares(lang_presence, with_lang, top=30),
        },
        "dataset": _count_stats("dataset"),
        "arxiv": _count_stats("arxiv"),
    }


def _hub_popularity_and_time(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Likes and downloads per lineage role, and the ``createdAt`` range and growth."""
    popularity: dict[str, Any] = {}
    for role in ("parent", "child", "other"):
        entry: dict[str, Any] = {}
        for column in ("likes", "downloads"):
            n, zero, log_mean, log_sd, median, positive = con.execute(
                f"""
                select count(*), avg(({column} <= 0)::int),
                       avg(ln({column})) filter (where {column} > 0),
                       stddev_pop(ln({column})) filter (where {column} > 0),
                       median({column}) filter (where {column} > 0),
                       count(*) filter (where {column} > 0)
                from roles where role = ?
                """,
                [role],
            ).fetchone()
            entry["models"] = n
            entry[column] = {
                "zero_share": _r(zero),
                "log_mean": _r(log_mean),
                "log_sd": _r(log_sd),
                "median": _r(float(median)),
                "n": positive,
            }
        popularity[role] = entry

    start, end = con.execute("select min(createdAt), max(createdAt) from m").fetchone()
    # Models older than the Hub's 2022 storage migration all carry its timestamp 2022-03-02T23:29.
    legacy = con.execute("select avg((createdAt < '2022-03-03')::int) from m").fetchone()[0]
    months = con.execute(
        """
        select substr(createdAt, 1, 7) as month, count(*) from m
        where createdAt >= '2022-03-03' group by 1 order by 1
        """
    ).fetchall()
    full = [(mon, c) for mon, c in months if mon < end[:7]]  # the snapshot's own month is partial
    x = np.arange(len(full), dtype=float)
    y = np.log(np.asarray([c for _, c in full], dtype=float))
    slope = float(np.polyfit(x, y, 1)[0])
    return {
        "popularity": popularity,
        "created_at": {
            "start": start,
            "end": end,
            "legacy_share": _r(legacy),
            "legacy_timestamp": start,
            "monthly_log_growth": _r(slope),
            "monthly_counts_first_last": [list(full[0]), list(full[-1])],
        },
    }


def _hub_lineage(con: duckdb.DuckDBPyConnection, n: int) -> dict[str, Any]:
    """The lineage skeleton: who has parents, family sizes and depths, merges, broken references."""
    edges, children = con.execute("select count(*), count(distinct child) from e").fetchone()
    dangling, case_only, self_loops, legacy_dangling = con.execute(
        """
        select sum((not present and not case_only)::int), sum(case_only::int),
               sum((parent = child)::int),
               sum((not present and not case_only and parent not like '%/%')::int)
        from e2
        """
    ).fetchone()
    per_child = Counter(
        dict(
            con.execute(
                "select k, count(*) from (select child, count(distinct parent) k from e group by 1) group by 1"
            ).fetchall()
        )
    )
    multi = sum(c for k, c in per_child.items() if k >= 2)
    merge_parents = Counter({min(k, 6): 0 for k in per_child if k >= 2})
    for k, c in per_child.items():
        if k >= 2:
            merge_parents[min(k, 6)] += c

    # Fertility (share of a relation's children that have children) needs typed relations, which
    # this 2024 snapshot predates: classify children by the usual signals (documented heuristic).
    fertility = dict(
        con.execute(
            f"""
            with k as (select child, count(distinct parent) as k from e group by 1),
            c as (
              select m.id,
                     case when k.k > 1 or list_contains(tags, 'merge') or list_contains(tags, 'mergekit')
                            then 'merge'
                          when list_contains(tags, 'gguf') or regexp_matches(m.id, '{QUANTIZED_NAME}')
                            then 'quantized'
                          when library_name = 'peft' or list_contains(tags, 'lora') or list_contains(tags, 'peft')
                            then 'adapter'
                          else 'finetune' end as relation
              from m join k on k.child = m.id
            )
            select relation, avg((id in (select parent from e))::int) from c group by 1 order by 1
            """
        ).fetchall()
    )

    tree_parent = dict(
        con.execute("select child, arg_min(parent, pos) from e where parent <> child group by 1").fetchall()
    )
    depth, root = _depths(tree_parent)
    family_sizes = Counter(root.values())
    for r in set(root.values()):
        family_sizes[r] += 1  # the root itself (present or a dangling reference)
    sizes = list(family_sizes.values())
    depth_by_bucket: dict[str, dict[str, float]] = {}
    for lo, hi in SIZE_BUCKETS:
        counts = Counter(
            d
            for child, d in depth.items()
            if d <= MAX_DEPTH and lo <= family_sizes[root[child]] and (hi is None or family_sizes[root[child]] <= hi)
        )
        total = sum(counts.values())
        label = f"{lo}-{hi}" if hi else f"{lo}+"
        depth_by_bucket[label] = {str(d): _r(counts[d] / total) for d in range(1, MAX_DEPTH + 1) if counts[d]}
    all_depths = Counter(depth.values())
    out_degree = list(dict(con.execute("select parent, count(distinct child) from e group by 1").fetchall()).values())
    largest = max(sizes)
    return {
        "share_with_parent": _r(children / n),
        "edges_per_model": _r(edges / n),
        "merge_share_of_children": _r(multi / children),
        "merge_parent_count": _shares(merge_parents, multi),
        "fertility_by_relation": {k: _r(v) for k, v in sorted(fertility.items())},
        "dangling_edge_share": _r(dangling / edges),
        "dangling_legacy_share": _r(legacy_dangling / dangling),
        "case_mismatch_edge_share": _r(case_only / edges),
        "self_loop_edge_share": _r(self_loops / edges),
        "family_size": {
            "xmin": 2,
            "alpha": _power_law_alpha(sizes, 2),
            "families": sum(1 for s in sizes if s >= 2),
            "median": _r(float(np.median(sizes))),
            "largest": largest,
            "largest_share_of_children": _r((largest - 1) / children),
        },
        "depth_share_by_family_size": depth_by_bucket,
        "depth_beyond_max_share": _r(sum(c for d, c in all_depths.items() if d > MAX_DEPTH) / len(depth)),
        "out_degree": {
            "xmin": 1,
            "alpha": _power_law_alpha(out_degree, 1),
            "median": _r(float(np.median(out_degree))),
            "p99": _r(float(np.percentile(out_degree, 99))),
            "max": int(max(out_degree)),
        },
    }


def _depths(tree_parent: dict[str, str]) -> tuple[dict[str, int], dict[str, str]]:
    """Generation and family root of every child, following tree parents; cycle members are left out."""
    depth: dict[str, int] = {}
    root: dict[str, str] = {}
    for start in tree_parent:
        if start in depth:
            continue
        path: list[str] = []
        on_path: set[str] = set()
        node = start
        cyclic = False
        while node in tree_parent and node not in depth:
            if node in on_path:
                cyclic = True
                break
            path.append(node)
            on_path.add(node)
            node = tree_parent[node]
        if cyclic:
            continue  # a cycle has no root; the real Hub has a few, the demo generates none
        base_depth = depth.get(node, 0)
        base_root = root.get(node, node)
        for offset, member in enumerate(reversed(path), start=1):
            depth[member] = base_depth + offset
            root[member] = base_root
    return depth, root


def _hub_details(corpus_dir: Path) -> dict[str, Any]:
    """Card presence, ``lastModified`` delay and ``cardData`` shapes from the full API objects."""
    rows = list(_jsonl(_corpus_files(corpus_dir, "details")))
    has_readme = {"child": [], "root": []}
    gaps = []
    license_shapes: Counter = Counter()
    language_shapes: Counter = Counter()
    for row in rows:
        role = "child" if any(t.startswith("base_model:") for t in row.get("tags") or ()) else "root"
        has_readme[role].append(any(s.get("rfilename") == "README.md" for s in row.get("siblings") or ()))
        if row.get("createdAt") and row.get("lastModified"):
            created = dt.datetime.fromisoformat(row["createdAt"].replace("Z", "+00:00"))
            modified = dt.datetime.fromisoformat(row["lastModified"].replace("Z", "+00:00"))
            gaps.append(max((modified - created).total_seconds(), 0.0))
        card_data = row.get("cardData") or {}
        if "license" in card_data and card_data["license"] is not None:
            license_shapes[type(card_data["license"]).__name__] += 1
        if "language" in card_data and card_data["language"] is not None:
            language_shapes[type(card_data["language"]).__name__] += 1
    gaps_arr = np.asarray(gaps)
    return {
        "details_models": len(rows),
        "card_present_share": {role: _r(float(np.mean(flags))) for role, flags in has_readme.items() if flags},
        "last_modified_delay_seconds": {
            "zero_share": _r(float((gaps_arr < 1).mean())),
            **_lognormal(gaps_arr),
        },
        "card_data_shapes": {
            "license_list_share": _r(license_shapes["list"] / max(sum(license_shapes.values()), 1)),
            "language_str_share": _r(language_shapes["str"] / max(sum(language_shapes.values()), 1)),
        },
    }


def calibrate_hub(corpus_dir: Path) -> dict[str, Any]:
    """Parameters measured on ``hub-2024-07`` (DuckDB over the 760,000 listing objects)."""
    con = duckdb.connect()
    try:
        con.execute(f"set threads to {max(os.cpu_count() or 1, 1)}")
        _load_hub(con, corpus_dir)
        n = con.execute("select count(*) from m").fetchone()[0]
        result = {
            "models": n,
            # Children's traits come from their parents (drift); roots draw from these two.
            "traits": {role: _hub_traits(con, role) for role in ("parent", "other")},
            **_hub_popularity_and_time(con),
            "lineage": _hub_lineage(con, n),
            "details": _hub_details(corpus_dir),
        }
        # Drift of multilingual parents is too rare in trees-2025-04 (a few dozen edges): take it
        # from the whole Hub's present-parent edges instead.
        result["multilingual_drift"] = _hub_multilingual_drift(con)
    finally:
        con.close()
    return result


def _hub_multilingual_drift(con: duckdb.DuckDBPyConnection) -> dict[str, float]:
    rows = con.execute(
        f"""
        with langs as (
          select id, list_filter(tags, lambda t: len(t) = 2 and t in ({_ISO_SQL})) as l
          from m where id in (select parent from e2 union select child from e2)
        )
        select p.l, c.l from e2 join langs p on p.id = e2.parent join langs c on c.id = e2.child
        where e2.present and len(p.l) >= 2
        """
    ).fetchall()
    english_only = sum(1 for p, c in rows if "en" in p and c == ["en"])
    subset = sum(1 for p, c in rows if c and set(c) < set(p))
    none = sum(1 for _, c in rows if not c)
    same = sum(1 for p, c in rows if c and set(c) == set(p))
    with_en = [(p, c) for p, c in rows if "en" in p]
    with_en_any = [(p, c) for p, c in with_en if c]
    return {
        "edges": len(rows),
        "keep_share": _r(same / len(rows)),
        "drop_all_share": _r(none / len(rows)),
        "strict_subset_share": _r(subset / len(rows)),
        "english_only_share_when_parent_has_en": _r(english_only / max(len(with_en), 1)),
        "child_keeps_en_share_when_any": _r(sum(1 for _, c in with_en_any if "en" in c) / max(len(with_en_any), 1)),
        "parent_mean_languages": _r(float(np.mean([len(p) for p, _ in rows]))),
        "child_mean_languages_when_any": _r(float(np.mean([len(c) for _, c in rows if c]))),
    }


# --------------------------------------------------------------------------------------------------
# trees-2025-04: typed lineage and drift
# --------------------------------------------------------------------------------------------------


def _licenses(model: dict[str, Any]) -> tuple[str, ...]:
    return tuple(sorted(t[8:] for t in model.get("tags") or () if t.startswith("license:")))


def _languages(model: dict[str, Any]) -> tuple[str, ...]:
    return tuple(sorted(t for t in model.get("tags") or () if t in ISO_639_1))


def _drift(pairs: list[tuple[tuple[str, ...], tuple[str, ...]]], top: int = 12) -> dict[str, Any]:
    """Keep / drop / change shares for parents that have the trait, gain share for those that do not."""
    having = [(p, c) for p, c in pairs if p]
    lacking = [(p, c) for p, c in pairs if not p]
    keep = sum(1 for p, c in having if c == p)
    drop = sum(1 for p, c in having if not c)
    changed_to = Counter(v for p, c in pairs if c and c != p for v in c)
    return {
        "edges": len(pairs),
        "keep_share": _r(keep / max(len(having), 1)),
        "drop_share": _r(drop / max(len(having), 1)),
        "change_share": _r((len(having) - keep - drop) / max(len(having), 1)),
        "gain_share_when_parent_has_none": _r(sum(1 for _, c in lacking if c) / max(len(lacking), 1)),
        "changed_to": _shares(changed_to, max(sum(changed_to.values()), 1), top=top),
    }


def _single_drift(pairs: list[tuple[str | None, str | None]]) -> dict[str, float]:
    having = [(p, c) for p, c in pairs if p]
    return {
        "edges": len(having),
        "keep_share": _r(sum(1 for p, c in having if c == p) / len(having)),
        "none_share": _r(sum(1 for _, c in having if c is None) / len(having)),
    }


def calibrate_trees(corpus_dir: Path) -> dict[str, Any]:
    """Parameters measured on ``trees-2025-04`` (1,815 models with cards, 7,971 typed edges)."""
    models = {m["id"]: m for m in _jsonl(_corpus_files(corpus_dir, "models"))}
    cards = {c["id"]: c.get("readme") or "" for c in _jsonl(_corpus_files(corpus_dir, "cards"))}
    relations_path = corpus_dir / "relations.jsonl.gz"
    if not relations_path.is_file():
        msg = f"{relations_path} is missing; trees-2025-04 must carry its relations.jsonl.gz"
        raise CorpusFormatError(msg)
    relations = list(_jsonl([relations_path]))
    rel_counts = Counter(r["relation"] for r in relations)

    finetune_edges = [
        (models[r["parent"]], models[r["child"]])
        for r in relations
        if r["relation"] == "finetune" and r["parent"] in models and r["child"] in models
    ]
    parents_with_children = {r["parent"] for r in relations}
    children = {r["child"] for r in relations if r["child"] in models}

    base_model_shapes: Counter = Counter()
    relation_field = 0
    for m in models.values():
        base = (m.get("cardData") or {}).get("base_model")
        if isinstance(base, str):
            base_model_shapes["str"] += 1
        elif isinstance(base, list) and len(base) == 1:
            base_model_shapes["list"] += 1
        if (m.get("cardData") or {}).get("base_model_relation"):
            relation_field += 1
    gated = Counter(str(m.get("gated")) for m in models.values())

    def _card_stats(ids: Iterable[str]) -> dict[str, Any]:
        texts = [cards[i] for i in ids if cards.get(i)]
        auto = [_is_autogenerated(t) for t in texts]
        return {
            "cards": len(texts),
            "autogenerated_share": _r(float(np.mean(auto))),
            "length_chars_handwritten": _lognormal_robust(len(t) for t, a in zip(texts, auto, strict=True) if not a),
        }

    # Depth inside the BFS (finetune only, truncated at 3 by how the corpus was crawled).
    roots = [i for i in models if i not in children]
    depth = dict.fromkeys(roots, 0)
    frontier = list(roots)
    by_parent: dict[str, list[str]] = {}
    for r in relations:
        if r["relation"] == "finetune" and r["child"] in models:
            by_parent.setdefault(r["parent"], []).append(r["child"])
    while frontier:
        nxt = []
        for node in frontier:
            for child in by_parent.get(node, ()):
                if child not in depth:
                    depth[child] = depth[node] + 1
                    nxt.append(child)
        frontier = nxt
    depth_counts = Counter(d for d in depth.values() if d > 0)

    return {
        "models": len(models),
        "cards": len(cards),
        "relations": len(relations),
        "relation_edge_shares": _shares(rel_counts, len(relations)),
        "base_model_list_share_single_parent": _r(base_model_shapes["list"] / sum(base_model_shapes.values())),
        "base_model_relation_field_share": _r(relation_field / len(models)),
        "gated": {
            "auto": _r(gated["auto"] / len(models)),
            "manual": _r(gated["manual"] / len(models)),
        },
        "depth_share_bfs_truncated": _shares(depth_counts, sum(depth_counts.values())),
        "drift_finetune": {
            "license": _drift([(_licenses(p), _licenses(c)) for p, c in finetune_edges]),
            "license_by_parent": _license_by_parent(finetune_edges),
            "language": _drift([(_languages(p), _languages(c)) for p, c in finetune_edges], top=15),
            "pipeline_tag": _single_drift([(p.get("pipeline_tag"), c.get("pipeline_tag")) for p, c in finetune_edges]),
            "library_name": _single_drift([(p.get("library_name"), c.get("library_name")) for p, c in finetune_edges]),
        },
        "cards_family_roots": _card_stats(i for i in models if i in parents_with_children and i not in children),
        "cards_inner_parents": _card_stats(i for i in models if i in parents_with_children and i in children),
        "cards_finetune_children": _card_stats(i for i in models if i in children),
    }


def _license_by_parent(edges: list[tuple[dict, dict]], min_edges: int = 30) -> dict[str, dict[str, float]]:
    """Keep / drop / change shares per parent license with enough edges to say something."""
    groups: dict[str, list[tuple[tuple[str, ...], tuple[str, ...]]]] = {}
    for parent, child in edges:
        lic = _licenses(parent)
        if len(lic) == 1:
            groups.setdefault(lic[0], []).append((lic, _licenses(child)))
    result = {}
    for lic, pairs in sorted(groups.items()):
        if len(pairs) >= min_edges:
            d = _drift(pairs)
            result[lic] = {k: d[k] for k in ("edges", "keep_share", "drop_share", "change_share", "changed_to")}
            result[lic]["changed_to"] = dict(list(d["changed_to"].items())[:6])
    return result


# --------------------------------------------------------------------------------------------------
# cards-2022-02: card text at volume
# --------------------------------------------------------------------------------------------------


def calibrate_cards(corpus_dir: Path) -> dict[str, Any]:
    """Parameters measured on ``cards-2022-02`` (16,590 READMEs, before lineage existed)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    texts = [c.get("readme") or "" for c in _jsonl(_corpus_files(corpus_dir, "cards"))]
    models = sum(1 for _ in _jsonl(_corpus_files(corpus_dir, "models")))
    non_empty = [t for t in texts if t.strip()]
    auto = [_is_autogenerated(t) for t in non_empty]
    with_front_matter = 0
    malformed: Counter = Counter()
    for text in non_empty:
        if not text.startswith("---"):
            continue
        with_front_matter += 1
        match = FRONT_MATTER.match(text)
        if not match:
            malformed["unclosed"] += 1
            continue
        try:
            data = yaml.load(match.group(1), Loader=loader)
        except yaml.YAMLError:
            malformed["yaml_error"] += 1
            continue
        if data is not None and not isinstance(data, dict):
            malformed["not_a_mapping"] += 1
    total_malformed = sum(malformed.values())
    return {
        "models": models,
        "cards": len(texts),
        "empty_share": _r(1 - len(non_empty) / len(texts)),
        "autogenerated_share": _r(float(np.mean(auto))),
        "length_chars_handwritten": _lognormal_robust(len(t) for t, a in zip(non_empty, auto, strict=True) if not a),
        "front_matter_share": _r(with_front_matter / len(non_empty)),
        "malformed_share_of_front_matter": _r(total_malformed / with_front_matter),
        "malformed_kinds": _shares(malformed, total_malformed),
    }


# --------------------------------------------------------------------------------------------------
# assembling params.json
# --------------------------------------------------------------------------------------------------


def default_hubdata() -> Path:
    """``HUBGENOME_HUBDATA`` if set, else the ``shared/hubdata`` folder beside the checkout."""
    return Path(os.environ.get("HUBGENOME_HUBDATA", REPO_HUBDATA))


def calibrate(
    hubdata: Path | None = None, *, today: dt.date | None = None, timings: dict[str, float] | None = None
) -> dict[str, Any]:
    """Measure every generator parameter on the real corpora under ``hubdata``.

    Parameters
    ----------
    hubdata
        The ``shared/hubdata`` folder holding ``hub-2024-07``, ``trees-2025-04`` and
        ``cards-2022-02`` (default: :func:`default_hubdata`).
    today
        The calibration date to record (default: today, UTC).
    timings
        If given, filled with the seconds each corpus took.

    Returns
    -------
    dict
        The content of ``params.json``: ``hub``, ``lineage``, ``drift``, ``cards``, ``repo`` and a
        ``source`` block naming the corpus behind every parameter.
    """
    hubdata = Path(hubdata) if hubdata is not None else default_hubdata()
    timings = timings if timings is not None else {}
    t0 = time.perf_counter()
    hub = calibrate_hub(_require(hubdata, HUB))
    timings[HUB] = time.perf_counter() - t0
    t0 = time.perf_counter()
    trees = calibrate_trees(_require(hubdata, TREES))
    timings[TREES] = time.perf_counter() - t0
    t0 = time.perf_counter()
    cards = calibrate_cards(_require(hubdata, CARDS))
    timings[CARDS] = time.perf_counter() - t0

    drift = trees["drift_finetune"]
    params: dict[str, Any] = {
        "schema": "hubgenome-demo-params/1",
        "hub": {
            "models_by_role": {role: hub["popularity"][role]["models"] for role in ("parent", "child", "other")},
            "traits_parents": hub["traits"]["parent"],
            "traits_others": hub["traits"]["other"],
            "popularity": hub["popularity"],
            "created_at": hub["created_at"],
            "last_modified_delay_seconds": hub["details"]["last_modified_delay_seconds"],
            "card_present_share": hub["details"]["card_present_share"],
            "card_data_shapes": hub["details"]["card_data_shapes"],
        },
        "lineage": {
            **hub["lineage"],
            "relation_edge_shares": trees["relation_edge_shares"],
            "base_model_list_share_single_parent": trees["base_model_list_share_single_parent"],
            "base_model_relation_field_share": trees["base_model_relation_field_share"],
            "depth_share_bfs_truncated": trees["depth_share_bfs_truncated"],
        },
        "drift": {
            "license": drift["license"],
            "license_by_parent": drift["license_by_parent"],
            "language": drift["language"],
            "language_multilingual": hub["multilingual_drift"],
            "pipeline_tag": drift["pipeline_tag"],
            "library_name": drift["library_name"],
        },
        "cards": {
            "singletons": {
                "autogenerated_share": cards["autogenerated_share"],
                "length_chars_handwritten": cards["length_chars_handwritten"],
                "front_matter_share": cards["front_matter_share"],
                "malformed_share_of_front_matter": cards["malformed_share_of_front_matter"],
                "malformed_kinds": cards["malformed_kinds"],
            },
            "family_roots": trees["cards_family_roots"],
            "inner_parents": trees["cards_inner_parents"],
            "children": {
                **trees["cards_finetune_children"],
                "autogenerated_share_by_relation": {
                    "finetune": trees["cards_finetune_children"]["autogenerated_share"],
                    **REFERENCE_AUTOGEN_CHILD,
                },
            },
        },
        "repo": {"gated": trees["gated"]},
        # Choices, not measurements: what a few-thousand-model demo needs that scaling cannot give.
        "demo": dict(DEMO_CHOICES),
    }
    params["source"] = _source_block(params, hub, trees, cards, today or dt.datetime.now(dt.UTC).date())
    return params


def _source_block(params: dict[str, Any], hub: dict, trees: dict, cards: dict, today: dt.date) -> dict[str, Any]:
    trees_keys = {
        "relation_edge_shares",
        "base_model_list_share_single_parent",
        "base_model_relation_field_share",
        "depth_share_bfs_truncated",
    }
    parameters: dict[str, str] = {}
    for key in params["hub"]:
        parameters[f"hub.{key}"] = HUB
    for key in params["lineage"]:
        parameters[f"lineage.{key}"] = TREES if key in trees_keys else HUB
    for key in params["drift"]:
        parameters[f"drift.{key}"] = HUB if key == "language_multilingual" else TREES
    parameters["cards.singletons"] = CARDS
    parameters["cards.family_roots"] = TREES
    parameters["cards.inner_parents"] = TREES
    parameters["cards.children"] = TREES
    parameters["cards.children.autogenerated_share_by_relation.finetune"] = TREES
    for relation in REFERENCE_AUTOGEN_CHILD:
        parameters[f"cards.children.autogenerated_share_by_relation.{relation}"] = REFERENCE
    parameters["repo.gated"] = TREES
    for key in DEMO_CHOICES:
        parameters[f"demo.{key}"] = "choice (see demo.why)"
    return {
        "calibrated_on": today.isoformat(),
        "script": "python -m hubgenome.local_hub.demo.calibrate",
        "corpora": {
            HUB: {
                "models": hub["models"],
                "details_models": hub["details"]["details_models"],
                "date": CORPUS_DATES[HUB],
                "what": "whole public Hub listing (/api/models), plus full objects for a subset",
            },
            TREES: {
                "models": trees["models"],
                "cards": trees["cards"],
                "relations": trees["relations"],
                "date": CORPUS_DATES[TREES],
                "what": "complete fine-tune trees with typed relations (BFS depth <= 3)",
            },
            CARDS: {
                "models": cards["models"],
                "cards": cards["cards"],
                "date": CORPUS_DATES[CARDS],
                "what": "READMEs of every Hub model that had one in February 2022",
            },
            REFERENCE: {
                "models": 1860411,
                "date": CORPUS_DATES[REFERENCE],
                "what": "published figures of 'Anatomy of a Machine Learning Ecosystem' (figure readings)",
            },
        },
        "parameters": parameters,
        "notes": {
            "fertility_by_relation": (
                "hub-2024-07 predates typed relations: children classified as merge (>1 parent or "
                "merge/mergekit tag), quantized (gguf tag or GGUF/GPTQ/AWQ/4bit... in the name), adapter "
                "(peft library or lora/peft tag), else finetune"
            ),
            "depth": (
                f"generations along tree parents (the first base_model tag), cycles left out, capped at "
                f"{MAX_DEPTH}; trees-2025-04's own depths are BFS-truncated at 3 and kept for reference"
            ),
            "language_multilingual": "trees-2025-04 has too few multilingual parents; whole-Hub edges used",
            "informational": (
                "measured for comparison, not read by the generator: hub.models_by_role, lineage.edges_per_model, "
                "lineage.merge_share_of_children, lineage.self_loop_edge_share (the demo makes no cycles), "
                "lineage.family_size except alpha/xmin, lineage.depth_beyond_max_share, lineage.out_degree, "
                "lineage.depth_share_bfs_truncated, every 'edges'/'n'/'median'/'models' count"
            ),
        },
    }


def write_params(params: dict[str, Any], out: Path) -> None:
    """Write params as stable, diff-friendly JSON (two-space indent, trailing newline)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(params, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point: calibrate and write ``params.json``."""
    parser = argparse.ArgumentParser(
        prog="python -m hubgenome.local_hub.demo.calibrate", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--hubdata",
        type=Path,
        default=None,
        help="the shared/hubdata folder (default: $HUBGENOME_HUBDATA or ../shared)",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where to write params.json")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    timings: dict[str, float] = {}
    try:
        params = calibrate(args.hubdata, timings=timings)
    except CorpusFormatError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    write_params(params, args.out)
    took = time.perf_counter() - started
    corpora = ", ".join(f"{k} ({v['models']:,} models)" for k, v in params["source"]["corpora"].items())
    print(f"calibrated from {corpora} in {took:.1f} s -> {args.out}")
    print("  " + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in timings.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
