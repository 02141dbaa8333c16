"""The analytics report: one self-contained HTML file and a Markdown summary, from the ``analytics`` schema.

Reads only the tables :mod:`hubgenome.analytics.run` wrote (a read-only connection to the published
warehouse is enough) and writes ``report.html`` and ``report.md`` into ``out_dir``.

Figures are inline SVG drawn here from the tables, not Vega-Lite: altair's HTML loads vega from a
CDN and no offline renderer (vl-convert) is installed, so SVG is the way to open the report with no
network. The Markdown carries the reproduction table (paper value, ours, corpus/date, reading) and
the paper's directional findings stated plainly.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from hubgenome.analytics import safety

SCHEMA = "analytics"
_PALETTE = (
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#9467bd",
    "#ff7f0e",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)


@dataclass(frozen=True)
class ReportPaths:
    """Where the report was written."""

    html: Path
    markdown: Path


def _table(con: duckdb.DuckDBPyConnection, name: str) -> pl.DataFrame:
    exists = con.sql(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        params=[SCHEMA, name],
    ).fetchall()[0][0]
    if not exists:
        return pl.DataFrame()
    return con.sql(f"select * from {SCHEMA}.{name}").pl()


def _number(value: object, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value.is_integer() and abs(value) >= 100:
            return f"{int(value):,}"
        if abs(value) >= 100:
            return f"{value:,.1f}"
        return f"{value:.{digits}g}" if abs(value) < 1e-3 and value != 0 else f"{value:.{digits}f}"
    return str(value)


# --- Markdown --------------------------------------------------------------------------------------


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _md_table(frame: pl.DataFrame, columns: dict[str, str]) -> str:
    if frame.is_empty():
        return "_(no rows)_\n"
    header = "| " + " | ".join(columns.values()) + " |"
    rule = "|" + "|".join("---" for _ in columns) + "|"
    lines = [header, rule]
    for row in frame.select(list(columns)).iter_rows():
        lines.append("| " + " | ".join(_md_escape(_number(v)) for v in row) + " |")
    return "\n".join(lines) + "\n"


def _verdict(holds: bool | None) -> str:
    return {True: "HOLDS", False: "DOES NOT HOLD", None: "CANNOT TELL"}[holds]


def _reproduction_frame(reproduction: pl.DataFrame) -> pl.DataFrame:
    if reproduction.is_empty():
        return reproduction
    return reproduction.with_columns(
        pl.when(pl.col("corpus").is_not_null())
        .then(pl.col("corpus") + pl.lit(" (") + pl.col("as_of") + pl.lit(")"))
        .otherwise(pl.lit("—"))
        .alias("corpus_date")
    )


def _why_not(con: duckdb.DuckDBPyConnection, finding: str, detail: str, corpus: str) -> str:
    """A plain, data-backed reason for a direction that fails or cannot be checked."""
    if detail.startswith("not computable"):
        return f"{corpus} lacks the input for this check ({detail.removeprefix('not computable: ')})."
    if "English" in finding:
        transitions = _table(con, "trait_transitions")
        if transitions.height:
            out = (
                transitions.filter(
                    (pl.col("trait") == "language_codes") & (pl.col("source") == "en") & (pl.col("target") != "en")
                )
                .sort(["n_transitions", "target"], descending=[True, False])
                .head(3)
            )
            named = ", ".join(f"en→{t} ({n})" for t, n in out.select("target", "n_transitions").iter_rows())
            return (
                f"In {corpus} fine-tunes of English-tagged parents add or switch to other languages more often than "
                f"the reverse (largest flows: {named}); the paper's flow toward English is a whole-Hub pattern that "
                "a corpus of a few complete trees need not show."
            )
    return f"In {corpus} the numbers point the other way: {detail}."


def _markdown(con: duckdb.DuckDBPyConnection) -> str:
    info = dict(_table(con, "run_info").select("key", "value").iter_rows()) if _table(con, "run_info").height else {}
    corpus, as_of, seed = info.get("corpus", "?"), info.get("as_of", "?"), info.get("seed", "?")
    reproduction = _reproduction_frame(_table(con, "reproduction"))
    checks = _table(con, "direction_checks")
    parts = [
        "# Anatomy of a Machine Learning Ecosystem: reproduction report\n",
        f"Corpus **{corpus}** (newest model created {as_of}); seed {seed}; "
        f"{info.get('n_models', '?')} models, {info.get('n_edges', '?')} lineage edges. The paper (Laufer, "
        "Oderinwale, Kleinberg, arXiv 2508.06811) used a 1.86M-model snapshot of 2025-07-12, so levels differ; "
        "the direction of each finding is what must hold.\n",
        "## Direction checks\n",
    ]
    if checks.height:
        for row in checks.iter_rows(named=True):
            line = f"- **{_verdict(row['holds'])}**: {row['finding']}. {row['detail']}."
            if row["holds"] is not True:
                line += " " + _why_not(con, row["finding"], row["detail"], corpus)
            parts.append(line)
        parts.append("")
    parts += [
        "## Reproduction table\n",
        _md_table(
            reproduction,
            {
                "metric": "metric",
                "paper_value": "paper",
                "our_value": "ours",
                "corpus_date": "corpus (date)",
                "reading": "reading",
            },
        ),
        "## Family trees\n",
        _md_table(_table(con, "lineage_summary"), {"metric": "metric", "value": "value", "note": "how"}),
        "\nHeavy tails (discrete power law, x_min by KS distance, against a log-normal by Vuong's test):\n",
        _md_table(
            _table(con, "tail_fits"),
            {
                "distribution": "distribution",
                "n_total": "n",
                "x_min": "x_min",
                "n_tail": "tail",
                "alpha": "alpha",
                "ks_distance": "KS",
                "p_value": "p (LR)",
                "preferred": "better fit",
            },
        ),
        "\nShare of each relation's children that have children of their own (paper: finetune 7.9%, "
        "quantized 0.95%, adapter 0.19%):\n",
        _md_table(
            _table(con, "children_with_children"),
            {"relation": "relation", "n_edges": "edges", "n_children_with_children": "with children", "share": "share"},
        ),
        "\n## Genetic similarity (siblings vs parent–child)\n",
        _md_table(
            _table(con, "similarity").filter(
                pl.col("motif").is_in(["rando", "duo", "trio_1"]) & (pl.col("measure") == "tfidf")
            )
            if _table(con, "similarity").height
            else pl.DataFrame(),
            {
                "genome": "genome",
                "motif": "motif",
                "pair": "pair",
                "n_pairs": "pairs",
                "mean": "TF-IDF mean",
                "ci_low": "CI low",
                "ci_high": "CI high",
            },
        ),
        "\nThe `metadata` genome keeps the parent's id and `base_model` tags, as the paper did (this inflates "
        "sibling similarity); `metadata_no_parent_refs` removes both. Every measure and motif is in "
        "`analytics.similarity`.\n",
        "## Directed drift\n",
        _md_table(
            _table(con, "trait_orderings"),
            {
                "trait": "trait",
                "n_values": "values",
                "forward_share": "forward share",
                "order": "order (upstream first)",
            },
        ),
        "\n",
        _md_table(
            _table(con, "mutation_rates"),
            {"edges": "edges", "trait": "trait", "n_edges": "n", "mutation_rate": "1 − Jaccard"},
        ),
        "\n",
        _md_table(
            _table(con, "card_drift"),
            {
                "edges_counted": "edges",
                "relation": "relation",
                "n_edges": "n",
                "parent_length_mean": "parent chars",
                "child_length_mean": "child chars",
                "parent_auto_generated_share": "parent auto",
                "child_auto_generated_share": "child auto",
            },
        ),
        "\n",
        _md_table(
            _table(con, "language_count_drift"),
            {
                "edges_counted": "edges",
                "relation": "relation",
                "n_edges": "n",
                "parent_mean": "parent languages",
                "child_mean": "child languages",
            },
        ),
        "\n## Licence compliance\n",
        _md_table(
            _table(con, "relicensing_violation_share"),
            {
                "n_edges_both_licensed": "edges both licensed",
                "n_relicensing_edges": "relicensing edges",
                "n_relicensing_with_conflict": "breaking an obligation",
                "share_relicensing_with_conflict": "share",
            },
        ),
        "\n",
        _md_table(
            _table(con, "license_conflicts_by_rule"),
            {
                "rule_id": "rule",
                "severity": "severity",
                "n_conflicts": "conflicts",
                "n_edges": "edges",
                "explanation": "rule",
            },
        ),
        "\n## Family safety evidence\n",
    ]
    status = _table(con, "safety_status")
    if status.height:
        row = status.row(0, named=True)
        parts.append(f"**{row['status']}.** {row['note']}\n")
    families = _table(con, "family_safety")
    if families.height:
        parts.append(
            _md_table(
                families,
                {
                    "family_id": "family",
                    "n_evaluated_members": "evaluated",
                    "family_downloads": "downloads",
                    "share_downloads_under_evaluated": "share of downloads under an evaluated model",
                },
            )
        )
    parts.append(_family_safety_view(con))
    parts.append("\nPublished NeST figures (population means, never per-model):\n")
    parts.append(
        _md_table(
            _table(con, "safety_published"),
            {
                "paper_version": "version",
                "population": "population",
                "metric": "metric",
                "method": "method",
                "value": "value",
                "unit": "unit",
            },
        )
    )
    return "\n".join(parts)


def _has_relation(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    return bool(
        con.sql(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
            params=[schema, name],
        ).fetchall()[0][0]
    )


def _family_safety_view(con: duckdb.DuckDBPyConnection) -> str:
    """The family safety view from the marts: each evaluated model's evidence (labelled), what it does
    and does not imply, and the un-evaluated descendants ranked by downloads (a pointer, never a score)."""
    if not _has_relation(con, "main", "fct_family_safety"):
        return "\n_The family safety view needs a warehouse built by this hubgenome (`hubgenome build`)._\n"
    figure = con.sql(safety.NEST_FINE_TUNED_FIGURE_SQL).pl()
    parts = [
        "\n### Safety beside families\n",
        safety.evidence_caveat(figure.row(0, named=True) if figure.height else None) + "\n",
    ]
    evaluated = con.sql(
        """
        select
            e.model_id, e.attack_or_benchmark, e.method, e.metric, e.value, e.unit, e.evaluated_on,
            e.evidence_label, e.source,
            f.family_id
        from main.fct_safety_evaluations as e
        inner join main.fct_family_safety as f on e.model_id = f.model_id
        order by e.model_id, e.attack_or_benchmark, e.method, e.evaluated_on
        """
    ).pl()
    if evaluated.is_empty():
        parts.append("No model of this warehouse has a per-model safety evaluation.\n")
        return "\n".join(parts)
    for (model_id,), rows in evaluated.group_by("model_id", maintain_order=True):
        below = con.sql(
            "select count(*), coalesce(sum(downloads), 0) from main.fct_family_safety "
            "where nearest_evaluated_model_id = ? and has_evaluated_ancestor",
            params=[model_id],
        ).fetchall()[0]
        parts.append(
            f"**{model_id}** (family {rows['family_id'][0]}): {safety.evidence_phrase(rows)}; "
            f"{below[0]:,} un-evaluated descendants with {below[1]:,} downloads (30 d) point to it.\n"
        )
        parts.append(
            _md_table(
                rows,
                {
                    "attack_or_benchmark": "attack or benchmark",
                    "method": "defence",
                    "value": "value",
                    "unit": "unit",
                    "evaluated_on": "date",
                    "evidence_label": "evidence",
                    "source": "source",
                },
            )
        )
    ranked = con.sql(
        """
        select model_id, nearest_evaluated_model_id, evaluated_ancestor_distance, relation_path, downloads
        from main.fct_family_safety
        where has_evaluated_ancestor
        order by downloads desc nulls last, model_id
        limit 20
        """
    ).pl()
    parts.append(
        "\nWhere an evaluation is most needed: the most downloaded models with no evaluation of their own, "
        "each with its nearest evaluated ancestor (whose results are not theirs), the lineage edges between them "
        "and the relations along them:\n"
    )
    parts.append(
        _md_table(
            ranked,
            {
                "model_id": "model",
                "nearest_evaluated_model_id": "nearest evaluated ancestor",
                "evaluated_ancestor_distance": "edges",
                "relation_path": "path",
                "downloads": "downloads",
            },
        )
    )
    return "\n".join(parts)


# --- SVG figures -----------------------------------------------------------------------------------


def _svg_frame(width: int, height: int, title: str, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">'
        f'<text x="{width / 2}" y="16" text-anchor="middle" font-size="13" font-weight="bold">'
        f"{html.escape(title)}</text>" + "".join(body) + "</svg>"
    )


def _loglog(series: dict[str, tuple[list[float], list[float]]], title: str, x_label: str, y_label: str) -> str:
    """Scatter of several series on log-log axes (values ≤ 0 dropped)."""
    width, height, left, right, top, bottom = 520, 340, 60, 130, 30, 45
    points = {k: [(x, y) for x, y in zip(*v, strict=True) if x and y and x > 0 and y > 0] for k, v in series.items()}
    every = [p for values in points.values() for p in values]
    if not every:
        return _svg_frame(width, 60, title, ['<text x="10" y="40">no data</text>'])
    lx = [math.log10(x) for x, _ in every]
    ly = [math.log10(y) for _, y in every]
    x0, x1 = math.floor(min(lx)), math.ceil(max(lx)) or 1
    y0, y1 = math.floor(min(ly)), math.ceil(max(ly)) or 1
    x1, y1 = max(x1, x0 + 1), max(y1, y0 + 1)
    sx = lambda v: left + (math.log10(v) - x0) / (x1 - x0) * (width - left - right)  # noqa: E731
    sy = lambda v: height - bottom - (math.log10(v) - y0) / (y1 - y0) * (height - top - bottom)  # noqa: E731
    body = [
        f'<rect x="{left}" y="{top}" width="{width - left - right}" height="{height - top - bottom}" '
        'fill="none" stroke="#999"/>'
    ]
    for d in range(x0, x1 + 1):
        x = left + (d - x0) / (x1 - x0) * (width - left - right)
        body.append(f'<text x="{x:.1f}" y="{height - bottom + 14}" text-anchor="middle">1e{d}</text>')
    for d in range(y0, y1 + 1):
        y = height - bottom - (d - y0) / (y1 - y0) * (height - top - bottom)
        body.append(f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">1e{d}</text>')
    body.append(
        f'<text x="{(width - right + left) / 2}" y="{height - 8}" text-anchor="middle">{html.escape(x_label)}</text>'
    )
    body.append(
        f'<text x="14" y="{(height) / 2}" transform="rotate(-90 14 {height / 2})" text-anchor="middle">'
        f"{html.escape(y_label)}</text>"
    )
    for i, (name, values) in enumerate(points.items()):
        color = _PALETTE[i % len(_PALETTE)]
        body += [
            f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="2.5" fill="{color}" fill-opacity="0.7"/>' for x, y in values
        ]
        body.append(
            f'<rect x="{width - right + 10}" y="{top + 14 * i}" width="10" height="10" fill="{color}"/>'
            f'<text x="{width - right + 24}" y="{top + 9 + 14 * i}">{html.escape(name)}</text>'
        )
    return _svg_frame(width, height, title, body)


def _bars(
    rows: list[tuple[str, float, float | None, float | None, str]], title: str, x_max: float | None = None
) -> str:
    """Horizontal bars: (label, value, ci_low, ci_high, series); one color per series."""
    if not rows:
        return _svg_frame(520, 60, title, ['<text x="10" y="40">no data</text>'])
    width, left, right, bar, gap, top = 620, 250, 30, 12, 4, 30
    height = top + len(rows) * (bar + gap) + 20
    top_value = x_max or max(max(r[1] for r in rows), max((r[3] or 0) for r in rows), 1e-9)
    scale = lambda v: left + v / top_value * (width - left - right)  # noqa: E731
    series = list(dict.fromkeys(r[4] for r in rows))
    body = []
    for i, (label, value, low, high, name) in enumerate(rows):
        y = top + i * (bar + gap)
        color = _PALETTE[series.index(name) % len(_PALETTE)]
        body.append(f'<text x="{left - 4}" y="{y + bar - 2}" text-anchor="end">{html.escape(label)}</text>')
        body.append(
            f'<rect x="{left}" y="{y}" width="{max(scale(value) - left, 0):.1f}" height="{bar}" fill="{color}"/>'
        )
        if low is not None and high is not None:
            body.append(
                f'<line x1="{scale(low):.1f}" x2="{scale(high):.1f}" y1="{y + bar / 2}" y2="{y + bar / 2}" '
                'stroke="black"/>'
            )
        body.append(f'<text x="{scale(value) + 3:.1f}" y="{y + bar - 2}" font-size="9">{_number(value)}</text>')
    return _svg_frame(width, height, title, body)


def _lines(frame: pl.DataFrame, title: str) -> str:
    """Cumulative family size over time, one line per family (log y)."""
    if frame.is_empty():
        return _svg_frame(520, 60, title, ['<text x="10" y="40">no data</text>'])
    width, height, left, right, top, bottom = 720, 360, 60, 260, 30, 40
    days = frame["created_on"].cast(pl.Date).cast(pl.Int64)
    d0, d1 = int(days.min()), max(int(days.max()), int(days.min()) + 1)
    y1 = math.ceil(math.log10(max(int(frame["cumulative_size"].max()), 10)))
    sx = lambda d: left + (d - d0) / (d1 - d0) * (width - left - right)  # noqa: E731
    sy = lambda v: height - bottom - math.log10(max(v, 1)) / y1 * (height - top - bottom)  # noqa: E731
    body = [
        f'<rect x="{left}" y="{top}" width="{width - left - right}" height="{height - top - bottom}" '
        'fill="none" stroke="#999"/>'
    ]
    for d in range(0, y1 + 1):
        body.append(f'<text x="{left - 4}" y="{sy(10**d) + 4:.1f}" text-anchor="end">1e{d}</text>')
    first, last = frame["created_on"].min(), frame["created_on"].max()
    body.append(f'<text x="{left}" y="{height - bottom + 14}">{first}</text>')
    body.append(f'<text x="{width - right}" y="{height - bottom + 14}" text-anchor="end">{last}</text>')
    for i, ((family,), group) in enumerate(frame.group_by(["family_id"], maintain_order=True)):
        color = _PALETTE[i % len(_PALETTE)]
        group_days = group["created_on"].cast(pl.Date).cast(pl.Int64).to_list()
        points = " ".join(f"{sx(d):.1f},{sy(v):.1f}" for d, v in zip(group_days, group["cumulative_size"], strict=True))
        body.append(f'<polyline points="{points}" fill="none" stroke="{color}" stroke-width="1.5"/>')
        label = f"{family} ({group['final_size'][0]:,})"
        body.append(
            f'<rect x="{width - right + 10}" y="{top + 14 * i}" width="10" height="10" fill="{color}"/>'
            f'<text x="{width - right + 24}" y="{top + 9 + 14 * i}">{html.escape(label[:40])}</text>'
        )
    return _svg_frame(width, height, title, body)


def _figures(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    figures: list[tuple[str, str]] = []
    sizes = _table(con, "family_size_distribution")
    if sizes.height:
        series = {
            g: (part["family_size"].to_list(), part["ccdf"].to_list())
            for (g,), part in sizes.group_by(["graph"], maintain_order=True)
        }
        figures.append(("Family sizes", _loglog(series, "Family size CCDF (log-log)", "family size", "P(size ≥ x)")))
    degrees = _table(con, "out_degree_distribution")
    if degrees.height:
        series = {
            g: (part["out_degree"].to_list(), part["ccdf"].to_list())
            for (g,), part in degrees.group_by(["graph"], maintain_order=True)
        }
        figures.append(("Out-degree", _loglog(series, "Out-degree CCDF (log-log)", "children", "P(children ≥ x)")))
    similarity = _table(con, "similarity")
    if similarity.height:
        for measure in ("tfidf", "levenshtein"):
            picked = similarity.filter(
                pl.col("motif").is_in(["rando", "duo", "trio_1", "trio_2", "quad_2"]) & (pl.col("measure") == measure)
            )
            rows = [
                (f"{r['genome']}: {r['motif']} {r['pair']}", r["mean"], r["ci_low"], r["ci_high"], r["genome"])
                for r in picked.iter_rows(named=True)
                if r["mean"] is not None and not math.isnan(r["mean"])
            ]
            figures.append((f"Similarity ({measure})", _bars(rows, f"Mean {measure} similarity, 95% CI", 1.0)))
    cards = _table(con, "card_drift")
    if cards.height:
        both = cards.filter((pl.col("edges_counted") == "both_with_cards") & (pl.col("n_edges") > 0))
        rows = []
        for r in both.iter_rows(named=True):
            rows.append((f"{r['relation']} parent", r["parent_length_mean"] or 0.0, None, None, "parent"))
            rows.append((f"{r['relation']} child", r["child_length_mean"] or 0.0, None, None, "child"))
        figures.append(("Card length", _bars(rows, "Card length (characters), parent → child")))
        rows = []
        for r in both.iter_rows(named=True):
            rows.append((f"{r['relation']} parent", r["parent_auto_generated_share"] or 0.0, None, None, "parent"))
            rows.append((f"{r['relation']} child", r["child_auto_generated_share"] or 0.0, None, None, "child"))
        figures.append(("Auto-generated cards", _bars(rows, "Share of auto-generated cards, parent → child", 1.0)))
    languages = _table(con, "language_count_drift")
    if languages.height:
        picked = languages.filter((pl.col("edges_counted") == "both_with_languages") & (pl.col("n_edges") > 0))
        rows = []
        for r in picked.iter_rows(named=True):
            rows.append((f"{r['relation']} parent", r["parent_mean"], None, None, "parent"))
            rows.append((f"{r['relation']} child", r["child_mean"], None, None, "child"))
        figures.append(("Languages", _bars(rows, "Number of languages, parent → child")))
    growth = _table(con, "family_growth")
    if growth.height:
        figures.append(("Family growth", _lines(growth, "Cumulative size of the largest families (no merges)")))
    return figures


# --- HTML ------------------------------------------------------------------------------------------


def _html_from_markdown(markdown: str) -> str:
    """Just enough Markdown for our own summary: headings, paragraphs, bullet lists, pipe tables."""
    out: list[str] = []
    lines = markdown.splitlines()
    i = 0

    def inline(text: str) -> str:
        escaped = html.escape(text)
        parts = escaped.split("**")
        escaped = "".join(f"<strong>{p}</strong>" if k % 2 else p for k, p in enumerate(parts))
        parts = escaped.split("`")
        return "".join(f"<code>{p}</code>" if k % 2 else p for k, p in enumerate(parts))

    while i < len(lines):
        line = lines[i]
        if line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            out.append(f"<h{level}>{inline(line[level:].strip())}</h{level}>")
        elif line.startswith("| "):
            rows = []
            while i < len(lines) and lines[i].startswith("|"):
                rows.append(lines[i])
                i += 1
            cells = [[c.strip().replace("\\|", "|") for c in r.strip("|").split(" | ")] for r in rows]
            head, body = cells[0], cells[2:]
            out.append("<table><thead><tr>" + "".join(f"<th>{inline(c)}</th>" for c in head) + "</tr></thead><tbody>")
            out += ["<tr>" + "".join(f"<td>{inline(c)}</td>" for c in r) + "</tr>" for r in body]
            out.append("</tbody></table>")
            continue
        elif line.startswith("- "):
            out.append("<ul>")
            while i < len(lines) and lines[i].startswith("- "):
                out.append(f"<li>{inline(lines[i][2:])}</li>")
                i += 1
            out.append("</ul>")
            continue
        elif line.strip():
            out.append(f"<p>{inline(line.strip())}</p>")
        i += 1
    return "\n".join(out)


_STYLE = """
body { font-family: sans-serif; max-width: 1100px; margin: 2em auto; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1em; font-size: 12px; }
th, td { border: 1px solid #ccc; padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
figure { margin: 1em 0; }
code { background: #f3f3f3; padding: 0 2px; }
"""


def write_report(con: duckdb.DuckDBPyConnection, out_dir: Path) -> ReportPaths:
    """Write ``report.html`` (self-contained: inline SVG, no external URLs) and ``report.md`` into ``out_dir``.

    Parameters
    ----------
    con
        A connection (read-only is enough) to a warehouse with the ``analytics`` schema.
    out_dir
        Created if missing; existing report files are replaced.

    Raises
    ------
    ValueError
        When the warehouse has no analytics tables: run the build with the analytics step.
    """
    if _table(con, "reproduction").is_empty():
        msg = (
            "The warehouse has no analytics.reproduction table: build it with the analytics step "
            "(hubgenome build, or hubgenome.flows.build.build_and_publish) before writing the report."
        )
        raise ValueError(msg)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    markdown = _markdown(con)
    figures = "\n".join(
        f"<figure><figcaption><strong>{html.escape(name)}</strong></figcaption>{svg}</figure>"
        for name, svg in _figures(con)
    )
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        "<title>hubgenome: Anatomy reproduction report</title>"
        f"<style>{_STYLE}</style></head><body>\n"
        f"{_html_from_markdown(markdown)}\n<h2>Figures</h2>\n{figures}\n</body></html>\n"
    )
    paths = ReportPaths(html=out_dir / "report.html", markdown=out_dir / "report.md")
    paths.markdown.write_text(markdown, encoding="utf-8")
    paths.html.write_text(page, encoding="utf-8")
    return paths
