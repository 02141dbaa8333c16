""" "Genetic" similarity of related models: are siblings more alike than parent and child?

The paper's headline (Laufer et al. 2025, §3) compares a model's *genome* — its listing metadata as a
string, or the first 512 characters of its card — across pairs of relatives. Pairs are drawn from
*motifs* (a parent with two children, a chain of three, ...) so that every instance of a motif in the
graph is equally likely; the pair compared is then picked inside the instance. Means carry 95 %
percentile-bootstrap intervals.

Scale: instances are drawn by weighted sampling over nodes or edges (weights such as C(k, 2) for a
parent with k children), never by enumerating them, so a 3M-node graph costs a few arrays of
integers. The vectorisers are fitted on every eligible genome, as the paper did, unless
``fit_max_documents`` caps it (a seeded sample; documented in the results).

Input frames
------------
edges
    ``child_model_id`` (str), ``parent_model_id`` (str), ``relation`` (str).
listings (metadata genome)
    ``model_id`` (str), ``metadata`` (str: the model's listing object as JSON, e.g. the raw landing's
    verbatim ``/api/models`` object).
cards (card genome)
    ``model_id`` (str), ``card_text`` (str, the full README with front matter), optionally
    ``is_auto_generated`` (bool; otherwise the paper's substring rule is applied).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein
from scipy import sparse
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.preprocessing import normalize

from hubgenome.analytics._graph import Digraph, build_digraph, require_columns

# The listing fields the paper's crawl returned (sort=trendingScore, no expand): its genome.
PAPER_LISTING_FIELDS = (
    "_id",
    "id",
    "likes",
    "trendingScore",
    "private",
    "downloads",
    "tags",
    "pipeline_tag",
    "library_name",
    "createdAt",
    "modelId",
)
# The paper's graphs: metadata on G_nomerges minus quantized edges; cards on G_finetune.
METADATA_RELATIONS: tuple[str | None, ...] = ("finetune", "adapter", None)
CARD_RELATIONS: tuple[str | None, ...] = ("finetune",)
MEASURES = ("levenshtein", "bow", "tfidf")

# motif → config → (label, (role a, role b)); roles index the columns of a sampled instance.
MOTIFS: dict[str, dict[int, tuple[str, tuple[int, int]]]] = {
    # instance (a, b): two distinct random nodes
    "rando": {1: ("random pair", (0, 1))},
    # (parent, child)
    "duo": {1: ("parent–child", (0, 1))},
    # (parent, child 1, child 2)
    "trio_1": {1: ("parent–child", (0, 1)), 2: ("siblings", (1, 2))},
    # chain (u, v, w)
    "trio_2": {1: ("grandparent–grandchild", (0, 2)), 2: ("parent–child (lower edge)", (1, 2)),
               3: ("parent–child (upper edge)", (0, 1))},
    # (parent, child 1, child 2, child 3)
    "quad_0": {1: ("parent–child", (0, 1)), 2: ("siblings", (1, 2))},
    # (u, v, w, x): w and x children of v
    "quad_1": {1: ("grandparent–grandchild", (0, 2)), 2: ("parent–child (lower edge)", (1, 2)),
               3: ("parent–child (upper edge)", (0, 1)), 4: ("siblings", (2, 3))},
    # (u, v, w, x): w a child of v, x another child of u
    "quad_2": {1: ("grandparent–grandchild", (0, 2)), 2: ("aunt/uncle–niece/nephew", (2, 3)),
               3: ("parent–child (lower edge)", (1, 2)), 4: ("parent–child (upper edge)", (0, 1)),
               5: ("siblings", (1, 3))},
    # chain (t, u, v, w)
    "quad_3": {1: ("great-grandparent (3 generations)", (0, 3)), 2: ("grandparent (u–w)", (1, 3)),
               3: ("grandparent (t–v)", (0, 2)), 4: ("parent–child (v–w)", (2, 3)),
               5: ("parent–child (u–v)", (1, 2)), 6: ("parent–child (t–u)", (0, 1))},
}  # fmt: skip

_AUTO_GENERATED = ("automatically generated", "generated automatically")


# --- genomes ---------------------------------------------------------------------------------------


def _metadata_genome(text: str, fields: Sequence[str] | None, remove_parent_references: bool) -> str:
    record = json.loads(text)
    if fields is not None:
        record = {key: record[key] for key in fields if key in record}
    if not remove_parent_references:
        return repr(record)
    tags = record.get("tags") or []
    parents = {tag.split(":")[-1] for tag in tags if isinstance(tag, str) and tag.startswith("base_model:")}
    record["tags"] = [tag for tag in tags if not (isinstance(tag, str) and tag.startswith("base_model:"))]
    genome = repr(record)
    # longest first, so "org/model-v2" is not half-removed by "org/model"
    for parent in sorted(parents, key=len, reverse=True):
        if parent:
            genome = genome.replace(parent, "")
    return genome


def metadata_genomes(
    listings: pl.DataFrame,
    *,
    remove_parent_references: bool = False,
    fields: Sequence[str] | None = PAPER_LISTING_FIELDS,
) -> pl.DataFrame:
    """The metadata genome: the listing object rendered as the Python repr string the paper compared.

    Parameters
    ----------
    listings
        ``model_id`` (str), ``metadata`` (str JSON object).
    remove_parent_references
        The paper kept them (``False``), which mechanically raises sibling similarity because
        siblings share the ``base_model:`` tags. ``True`` drops every ``base_model:*`` tag and every
        occurrence of those parents' ids.
    fields
        Keep only these keys, in this order (the paper's listing fields); ``None`` keeps all.

    Returns
    -------
    polars.DataFrame
        ``model_id`` (str), ``genome`` (str).

    Examples
    --------
    >>> listing = '{"id": "me/ft", "tags": ["license:mit", "base_model:org/base"], "downloads": 3}'
    >>> frame = pl.DataFrame({"model_id": ["me/ft"], "metadata": [listing]})
    >>> metadata_genomes(frame)["genome"][0]
    "{'id': 'me/ft', 'downloads': 3, 'tags': ['license:mit', 'base_model:org/base']}"
    >>> metadata_genomes(frame, remove_parent_references=True)["genome"][0]
    "{'id': 'me/ft', 'downloads': 3, 'tags': ['license:mit']}"
    """
    require_columns(listings, ("model_id", "metadata"), "listings")
    genomes = [
        _metadata_genome(text, fields, remove_parent_references) if text is not None else None
        for text in listings["metadata"].to_list()
    ]
    return pl.DataFrame({"model_id": listings["model_id"], "genome": pl.Series(genomes, dtype=pl.String)}).drop_nulls()


def card_genomes(cards: pl.DataFrame, *, min_length: int = 512, prefix_length: int = 512) -> pl.DataFrame:
    """The card genome: the first ``prefix_length`` characters of eligible cards.

    Eligible (the paper: 618,531 of 1.86M): the card has at least ``min_length`` characters and is
    not auto-generated (``is_auto_generated`` if given, else the substring rule "automatically
    generated" / "generated automatically", case-insensitive).

    Returns
    -------
    polars.DataFrame
        ``model_id`` (str), ``genome`` (str), eligible cards only.

    Examples
    --------
    >>> cards = pl.DataFrame({"model_id": ["a", "b"], "card_text": ["x" * 600, "short"]})
    >>> card_genomes(cards)["genome"].str.len_chars().to_list()
    [512]
    """
    require_columns(cards, ("model_id", "card_text"), "cards")
    text = pl.col("card_text")
    if "is_auto_generated" in cards.columns:
        auto = pl.col("is_auto_generated").fill_null(False)
    else:
        lowered = text.str.to_lowercase()
        auto = lowered.str.contains(_AUTO_GENERATED[0], literal=True) | lowered.str.contains(
            _AUTO_GENERATED[1], literal=True
        )
    return cards.filter(text.is_not_null() & (text.str.len_chars() >= min_length) & ~auto.fill_null(False)).select(
        "model_id", text.str.slice(0, prefix_length).alias("genome")
    )


# --- motif sampling --------------------------------------------------------------------------------


def _choose2(k: np.ndarray) -> np.ndarray:
    return k * (k - 1) // 2


def _choose3(k: np.ndarray) -> np.ndarray:
    return k * (k - 1) * (k - 2) // 6


def _csr_edges(graph: Digraph) -> tuple[np.ndarray, np.ndarray]:
    """Edges in CSR order: position p is (parent, out_idx[p])."""
    return np.repeat(np.arange(graph.n_nodes, dtype=np.int64), graph.out_degree), graph.out_idx


def _motif_weights(graph: Digraph, motif: str) -> np.ndarray:
    """Instances per node (node motifs) or per CSR edge position (edge motifs)."""
    out_degree = graph.out_degree
    parent, child = _csr_edges(graph)
    if motif == "duo":
        return np.ones(graph.n_edges, dtype=np.int64)
    if motif == "trio_1":
        return _choose2(out_degree)
    if motif == "trio_2":
        return out_degree[child]
    if motif == "quad_0":
        return _choose3(out_degree)
    if motif == "quad_1":
        return _choose2(out_degree[child])
    if motif == "quad_2":
        return out_degree[child] * (out_degree[parent] - 1)
    if motif == "quad_3":
        # every chain t → u → v → w once: the paper weighted u → v by outdeg(v) and took a parent t of
        # u; weighting by indeg(u) too keeps instances equally likely when u has several parents.
        return graph.in_degree[parent] * out_degree[child]
    msg = f"unknown motif {motif!r}; choose one of {sorted(MOTIFS)}."
    raise ValueError(msg)


def motif_instance_counts(graph: Digraph) -> dict[str, int]:
    """Exact number of instances of every motif (the total weight the sampler draws from).

    ``rando`` counts unordered pairs of distinct nodes.
    """
    counts = {"rando": graph.n_nodes * (graph.n_nodes - 1) // 2}
    for motif in MOTIFS:
        if motif != "rando":
            counts[motif] = int(_motif_weights(graph, motif).sum())
    return counts


def _weighted_pick(weights: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    cumulative = np.cumsum(weights, dtype=np.int64)
    total = int(cumulative[-1]) if cumulative.size else 0
    if total == 0:
        return np.empty(0, dtype=np.int64)
    return np.searchsorted(cumulative, rng.integers(0, total, n), side="right").astype(np.int64)


def _distinct(k: np.ndarray, m: int, rng: np.random.Generator) -> list[np.ndarray]:
    """m distinct uniform positions in [0, k) per row, vectorised (sequential exclusion)."""
    chosen: list[np.ndarray] = []
    for i in range(m):
        position = rng.integers(0, k - i)
        for previous in _sorted_columns(chosen):
            position = position + (position >= previous)
        chosen.append(position)
    return chosen


def _sorted_columns(columns: list[np.ndarray]) -> list[np.ndarray]:
    """Row-wise ascending order of the given equal-length integer columns (helper for exclusion)."""
    if not columns:
        return []
    stacked = np.sort(np.stack(columns, axis=1), axis=1)
    return [stacked[:, j] for j in range(stacked.shape[1])]


def _child(graph: Digraph, nodes: np.ndarray, positions: np.ndarray) -> np.ndarray:
    return graph.out_idx[graph.out_ptr[nodes] + positions]


def sample_motif_instances(graph: Digraph, motif: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """Draw ``n`` motif instances uniformly (with replacement) from all instances in the graph.

    Returns
    -------
    numpy.ndarray
        int64 array of shape (n, roles): node numbers in the role order of :data:`MOTIFS`; zero rows
        when the motif does not occur.
    """
    out_degree = graph.out_degree
    if motif == "rando":
        if graph.n_nodes < 2:
            return np.empty((0, 2), dtype=np.int64)
        a = rng.integers(0, graph.n_nodes, n)
        b = rng.integers(0, graph.n_nodes - 1, n)
        return np.stack([a, b + (b >= a)], axis=1)
    weights = _motif_weights(graph, motif)
    picked = _weighted_pick(weights, n, rng)
    width = {"duo": 2, "trio_1": 3, "trio_2": 3, "quad_0": 4, "quad_1": 4, "quad_2": 4, "quad_3": 4}[motif]
    if picked.size == 0:
        return np.empty((0, width), dtype=np.int64)
    parent, child = _csr_edges(graph)
    if motif in ("trio_1", "quad_0"):
        k = out_degree[picked]
        positions = _distinct(k, width - 1, rng)
        return np.stack([picked, *[_child(graph, picked, p) for p in positions]], axis=1)
    u, v = parent[picked], child[picked]
    if motif == "duo":
        return np.stack([u, v], axis=1)
    if motif == "trio_2":
        w = _child(graph, v, rng.integers(0, out_degree[v]))
        return np.stack([u, v, w], axis=1)
    if motif == "quad_1":
        first, second = _distinct(out_degree[v], 2, rng)
        return np.stack([u, v, _child(graph, v, first), _child(graph, v, second)], axis=1)
    if motif == "quad_2":
        w = _child(graph, v, rng.integers(0, out_degree[v]))
        position_of_v = picked - graph.out_ptr[u]
        other = rng.integers(0, out_degree[u] - 1)
        x = _child(graph, u, other + (other >= position_of_v))
        return np.stack([u, v, w, x], axis=1)
    # quad_3: a uniformly chosen parent t of u, a uniformly chosen child w of v
    t = graph.in_idx[graph.in_ptr[u] + rng.integers(0, graph.in_degree[u])]
    w = _child(graph, v, rng.integers(0, out_degree[v]))
    return np.stack([t, u, v, w], axis=1)


# --- measures and bootstrap ------------------------------------------------------------------------


def levenshtein_similarity(a: Sequence[str], b: Sequence[str]) -> np.ndarray:
    """1 − distance / max(len a, len b), element-wise (both empty → 1, one empty → 0).

    Examples
    --------
    >>> levenshtein_similarity(["kitten", ""], ["sitting", ""]).round(4).tolist()
    [0.5714, 1.0]
    """
    if len(a) == 0:
        return np.empty(0)
    return process.cpdist(list(a), list(b), scorer=Levenshtein.normalized_similarity, workers=1).astype(float)


@dataclass
class TextVectors:
    """Bag-of-words and TF-IDF vectorisers fitted on a genome corpus (512 features, 1–2-grams)."""

    bow: CountVectorizer
    tfidf: TfidfVectorizer
    n_documents: int

    @classmethod
    def fit(
        cls,
        documents: Sequence[str],
        *,
        max_features: int = 512,
        fit_max_documents: int | None = None,
        seed: int = 0,
    ) -> TextVectors:
        """Fit both vectorisers (the paper: on every eligible node; cap with ``fit_max_documents``)."""
        docs = list(documents)
        if fit_max_documents is not None and len(docs) > fit_max_documents:
            chosen = np.sort(np.random.default_rng(seed).choice(len(docs), fit_max_documents, replace=False))
            docs = [docs[i] for i in chosen]
        if not docs:
            msg = "no genomes to fit the vectorisers on; check that the genome frame is not empty."
            raise ValueError(msg)
        settings = {"max_features": max_features, "ngram_range": (1, 2), "lowercase": True}
        bow = CountVectorizer(**settings).fit(docs)
        tfidf = TfidfVectorizer(**settings).fit(docs)
        return cls(bow=bow, tfidf=tfidf, n_documents=len(docs))

    def embed(self, documents: Sequence[str]) -> dict[str, sparse.csr_matrix]:
        """L2-normalised bag-of-words and TF-IDF rows of ``documents``, tokenised once.

        Both vectorisers were fitted with the same settings on the same documents, so they share a
        vocabulary; TF-IDF rows are then the count rows times the IDF weights, normalised, which is
        exactly ``TfidfVectorizer.transform`` at half the tokenising cost.
        """
        counts = self.bow.transform(list(documents))
        if self.bow.vocabulary_ == self.tfidf.vocabulary_:
            weighted = counts @ sparse.diags(self.tfidf.idf_)
        else:  # pragma: no cover - only with hand-made vectorisers
            weighted = self.tfidf.transform(list(documents))
        return {"bow": normalize(counts.astype(float)).tocsr(), "tfidf": normalize(weighted).tocsr()}

    def cosine(self, measure: str, a: Sequence[str], b: Sequence[str]) -> np.ndarray:
        """Row-wise cosine similarity of the two lists under ``measure`` ("bow" or "tfidf")."""
        vectorizer = {"bow": self.bow, "tfidf": self.tfidf}[measure]
        if len(a) == 0:
            return np.empty(0)
        left = normalize(vectorizer.transform(list(a)))
        right = normalize(vectorizer.transform(list(b)))
        return np.asarray(left.multiply(right).sum(axis=1)).ravel()


def pair_similarity(measure: str, a: Sequence[str], b: Sequence[str], vectors: TextVectors | None = None) -> np.ndarray:
    """Similarity of each (a[i], b[i]) under ``measure`` in {"levenshtein", "bow", "tfidf"}."""
    if measure == "levenshtein":
        return levenshtein_similarity(a, b)
    if measure in ("bow", "tfidf"):
        if vectors is None:
            msg = f"measure {measure!r} needs fitted vectorisers: pass vectors=TextVectors.fit(all_genomes)."
            raise ValueError(msg)
        return vectors.cosine(measure, a, b)
    msg = f"unknown measure {measure!r}; choose one of {MEASURES}."
    raise ValueError(msg)


def bootstrap_mean_ci(
    values: np.ndarray | Sequence[float],
    *,
    n_resamples: int = 10_000,
    confidence: float = 0.95,
    seed: int | np.random.SeedSequence = 0,
) -> tuple[float, float, float]:
    """Mean and percentile-bootstrap confidence interval, vectorised in memory-bounded chunks.

    Examples
    --------
    >>> mean, low, high = bootstrap_mean_ci([0.0, 1.0] * 50, seed=1)
    >>> mean, low < 0.5 < high
    (0.5, True)
    """
    return bootstrap_mean_cis(np.asarray(values, dtype=float)[None, :], n_resamples=n_resamples,
                              confidence=confidence, seed=seed)[0]  # fmt: skip


def bootstrap_mean_cis(
    values: np.ndarray,
    *,
    n_resamples: int = 10_000,
    confidence: float = 0.95,
    seed: int | np.random.SeedSequence = 0,
) -> list[tuple[float, float, float]]:
    """:func:`bootstrap_mean_ci` of several rows of paired values with the *same* resamples.

    ``values`` has shape (measures, pairs): the measures of one sample of pairs. Resampling the
    pairs once for all measures is the paired bootstrap and costs one set of random draws instead of
    one per measure.
    """
    data = np.atleast_2d(np.asarray(values, dtype=float))
    rows, size = data.shape
    if size == 0:
        return [(float("nan"), float("nan"), float("nan"))] * rows
    rng = np.random.default_rng(seed)
    # about 4M draws per chunk whatever the sample size, so memory stays ~16 MB
    chunk = max(1, min(n_resamples, 4_000_000 // size))
    means = np.empty((rows, n_resamples))
    index_type = np.int32 if size < 2**31 else np.int64
    for start in range(0, n_resamples, chunk):
        stop = min(start + chunk, n_resamples)
        picks = rng.integers(0, size, (stop - start, size), dtype=index_type)
        for row in range(rows):
            means[row, start:stop] = data[row][picks].mean(axis=1)
    tail = (1.0 - confidence) / 2.0 * 100.0
    bounds = np.percentile(means, [tail, 100.0 - tail], axis=1)
    return [(float(data[row].mean()), float(bounds[0, row]), float(bounds[1, row])) for row in range(rows)]


# --- the table -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SamplePairs:
    """The pairs of one (motif, config) sample whose two ends both have a genome (node numbers)."""

    motif_number: int
    motif: str
    config: int
    label: str
    n_instances: int
    node_a: np.ndarray
    node_b: np.ndarray


@dataclass(frozen=True)
class ScoringJob:
    """A self-contained part of the scoring step, small enough to ship to another process.

    ``genomes`` holds each distinct genome the job's pairs touch, once, in node order; each sample's
    ``node_a`` / ``node_b`` are positions in it. With the fitted ``vectors`` and the seeds, that is
    everything :func:`score_job` needs: no graph, no warehouse.
    """

    genomes: list[str]
    samples: list[SamplePairs]
    measures: tuple[str, ...]
    vectors: TextVectors | None
    n_resamples: int
    seed: int


#: Scores a list of jobs, returning ``score_job(job)`` for each, in order (see ``similarity_table``).
PartitionScorer = Callable[[list[ScoringJob]], Sequence[list[tuple]]]


def _scoring_job(samples: list[SamplePairs], genome_of: np.ndarray, **settings: object) -> ScoringJob:
    """Re-number the samples' nodes as positions in the job's own list of distinct genomes."""
    nodes = [sample.node_a for sample in samples] + [sample.node_b for sample in samples]
    used = np.unique(np.concatenate(nodes)) if nodes else np.empty(0, dtype=np.int64)
    local = [
        SamplePairs(
            s.motif_number, s.motif, s.config, s.label, s.n_instances,
            np.searchsorted(used, s.node_a), np.searchsorted(used, s.node_b),
        )
        for s in samples
    ]  # fmt: skip
    return ScoringJob(genomes=genome_of[used].tolist(), samples=local, **settings)  # type: ignore[arg-type]


def score_job(job: ScoringJob) -> list[tuple]:
    """Score every pair of the job under every measure and bootstrap each sample's means.

    Returns one row per (sample, measure): ``(motif, config, pair, measure, n_instances, n_pairs,
    mean, ci_low, ci_high, fitted_documents)``, samples in job order. Each row depends only on its
    own sample's genomes and seed, so any split of the samples into jobs gives the same rows.
    """
    vectors = job.vectors
    genomes = np.asarray(job.genomes, dtype=object)
    embedded: dict[str, sparse.csr_matrix] = {}
    if vectors is not None and job.samples and genomes.size:
        embedded = vectors.embed(job.genomes)

    def score(measure: str, node_a: np.ndarray, node_b: np.ndarray) -> np.ndarray:
        if measure in ("bow", "tfidf") and embedded:
            matrix = embedded[measure]
            return np.asarray(matrix[node_a].multiply(matrix[node_b]).sum(axis=1)).ravel()
        return pair_similarity(measure, genomes[node_a].tolist(), genomes[node_b].tolist(), vectors)

    rows = []
    for sample in job.samples:
        measures = job.measures
        scores = np.stack([score(m, sample.node_a, sample.node_b) for m in measures]) if measures else None
        intervals = (
            bootstrap_mean_cis(
                scores,
                n_resamples=job.n_resamples,
                seed=np.random.SeedSequence([job.seed, sample.motif_number, sample.config, 1]),
            )
            if scores is not None
            else []
        )
        for measure, (mean, low, high) in zip(measures, intervals, strict=True):
            rows.append(
                (sample.motif, sample.config, sample.label, measure, sample.n_instances, len(sample.node_a),
                 mean, low, high, vectors.n_documents if vectors else 0)
            )  # fmt: skip
    return rows


GenomeLoader = Callable[[pl.Series], pl.DataFrame]


def similarity_table(
    edges: pl.DataFrame | None,
    genomes: pl.DataFrame | GenomeLoader,
    *,
    model_ids: Iterable[str] | pl.Series | None = None,
    relations: Iterable[str | None] | None = METADATA_RELATIONS,
    motifs: Iterable[str] = tuple(MOTIFS),
    measures: Iterable[str] = MEASURES,
    n_samples: int = 500,
    n_resamples: int = 10_000,
    seed: int = 0,
    fit_max_documents: int | None = None,
    graph: Digraph | None = None,
    score_partitions: PartitionScorer | None = None,
) -> pl.DataFrame:
    """Mean similarity of every motif pair type under every measure, with 95 % bootstrap intervals.

    Each (motif, config) draws its own ``n_samples`` instances (as the paper re-sampled each
    independently); pairs whose ends lack a genome (ineligible cards) are dropped afterwards, so
    ``n_pairs`` ≤ ``n_samples``. The vectorisers are fitted on every genome of a graph node.

    Parameters
    ----------
    edges
        Lineage edges (see the module docstring); may be ``None`` when ``graph`` is given.
    genomes
        ``model_id`` (str), ``genome`` (str): from :func:`metadata_genomes` or :func:`card_genomes`.
        Or a loader: a function from model ids (a ``pl.Series``) to such a frame, called once with
        the sampled nodes plus the vectorisers' fitting nodes, so a 3M-node graph never renders 3M
        genomes. With a loader and ``fit_max_documents``, the fitting sample is drawn (seeded) from
        all graph nodes and those without a genome are dropped from it.
    model_ids
        Nodes of the graph (the whole snapshot, so random pairs are drawn from every model, as in the
        paper); ``None`` uses the edge endpoints.
    relations
        Edge relations kept: :data:`METADATA_RELATIONS` (finetune + adapter) for metadata,
        :data:`CARD_RELATIONS` (finetune) for cards, as the paper did.
    n_samples
        Instances per (motif, config): the paper used 500 for metadata and 1,000 for cards.
    fit_max_documents
        Fit the vectorisers on a seeded sample of at most this many genomes (``None``: all).
    graph
        A prebuilt graph to use instead of building one from ``edges``, ``model_ids`` and
        ``relations`` (which are then ignored).
    score_partitions
        ``None`` (default) scores every sample in this process, as one :class:`ScoringJob`. Otherwise
        a function given one self-contained job per (motif, config), in table order, that returns
        :func:`score_job` of each, in the same order (e.g. run as tasks on a Dask cluster); the
        table is the same either way, since every pair's score and every bootstrap depend only on
        its own job.

    Returns
    -------
    polars.DataFrame
        ``motif`` (str), ``config`` (int), ``pair`` (str), ``measure`` (str), ``n_instances``
        (int: instances of the motif in the graph), ``n_pairs`` (int), ``mean``, ``ci_low``,
        ``ci_high`` (float), ``fitted_documents`` (int).
    """
    if graph is None:
        if edges is None:
            msg = "pass either an edges frame or a prebuilt graph (graph=...)."
            raise ValueError(msg)
        graph = build_digraph(edges, model_ids, relations=relations)
    measures = list(measures)
    motifs = list(motifs)
    needs_vectors = any(m in ("bow", "tfidf") for m in measures)
    # 1. sample every (motif, config) first: sampling depends on the graph only
    samples: list[tuple[int, str, int, str, int, int, np.ndarray]] = []
    for motif_number, motif in enumerate(motifs):
        if motif not in MOTIFS:
            msg = f"unknown motif {motif!r}; choose from {list(MOTIFS)}."
            raise ValueError(msg)
        for config, (label, (role_a, role_b)) in MOTIFS[motif].items():
            rng = np.random.default_rng(np.random.SeedSequence([seed, motif_number, config]))
            instances = sample_motif_instances(graph, motif, n_samples, rng)
            samples.append((motif_number, motif, config, label, role_a, role_b, instances))
    # 2. the genomes of the nodes that need one
    genome_of = np.full(graph.n_nodes, None, dtype=object)
    fit_nodes: np.ndarray | None = None
    if callable(genomes):
        wanted = [s[6][:, [s[4], s[5]]].ravel() for s in samples]
        if needs_vectors:
            if fit_max_documents is not None and graph.n_nodes > fit_max_documents:
                fit_rng = np.random.default_rng(np.random.SeedSequence([seed, 7919]))
                fit_nodes = np.sort(fit_rng.choice(graph.n_nodes, fit_max_documents, replace=False))
            else:
                fit_nodes = np.arange(graph.n_nodes, dtype=np.int64)
            wanted.append(fit_nodes)
        needed = np.unique(np.concatenate(wanted)) if wanted else np.empty(0, dtype=np.int64)
        loaded = genomes(graph.ids.gather(needed))
    else:
        loaded = genomes
    require_columns(loaded, ("model_id", "genome"), "genomes")
    position = graph.index_of(loaded["model_id"])
    known = position >= 0
    genome_of[position[known]] = np.asarray(loaded["genome"].to_list(), dtype=object)[known]
    vectors = None
    if needs_vectors:
        if fit_nodes is not None:
            corpus = [g for g in genome_of[fit_nodes] if g is not None]
            vectors = TextVectors.fit(corpus)
        else:
            corpus = [g for g in genome_of if g is not None]
            vectors = TextVectors.fit(corpus, fit_max_documents=fit_max_documents, seed=seed)
    # 3. score: every sampled node's genome is vectorised once per job, pairs are row look-ups
    counts = motif_instance_counts(graph)
    has_genome = np.array([g is not None for g in genome_of], dtype=bool)
    scored: list[SamplePairs] = []
    for motif_number, motif, config, label, role_a, role_b, instances in samples:
        node_a, node_b = instances[:, role_a], instances[:, role_b]
        keep = has_genome[node_a] & has_genome[node_b]
        scored.append(SamplePairs(motif_number, motif, config, label, counts[motif], node_a[keep], node_b[keep]))
    settings = {"measures": tuple(measures), "vectors": vectors, "n_resamples": n_resamples, "seed": seed}
    if score_partitions is None:
        rows = score_job(_scoring_job(scored, genome_of, **settings))
    else:
        jobs = [_scoring_job([sample], genome_of, **settings) for sample in scored]
        results = list(score_partitions(jobs))
        if len(results) != len(jobs):
            msg = f"score_partitions returned {len(results)} results for {len(jobs)} jobs; it must return one per job."
            raise ValueError(msg)
        rows = [row for result in results for row in result]
    return pl.DataFrame(
        rows,
        schema={
            "motif": pl.String,
            "config": pl.Int64,
            "pair": pl.String,
            "measure": pl.String,
            "n_instances": pl.Int64,
            "n_pairs": pl.Int64,
            "mean": pl.Float64,
            "ci_low": pl.Float64,
            "ci_high": pl.Float64,
            "fitted_documents": pl.Int64,
        },
        orient="row",
    )
