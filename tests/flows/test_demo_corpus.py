"""The synthetic demo Hub: deterministic, shaped like the real corpora, its ground truth exact,
its parameters really calibrated and really used."""

from __future__ import annotations

import copy
import gzip
import json
import re
import shutil
import statistics
from collections import Counter
from pathlib import Path

import networkx as nx
import pytest
import yaml

from hubgenome.local_hub.demo import _text, calibrate
from hubgenome.local_hub.demo.synthetic import (
    RELATIONS,
    DemoManifest,
    evolve_corpus,
    generate_corpus,
    load_params,
)

ISO_DATE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z")
FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n", re.S)


def _rows(path: Path) -> list[dict]:
    """Read a corpus file the plainest way: gzip + json, one object per line."""
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def _load(corpus: Path) -> tuple[dict[str, dict], dict[str, str], list[dict]]:
    models = {m["id"]: m for p in sorted(corpus.glob("models-*.jsonl.gz")) for m in _rows(p)}
    cards = {c["id"]: c["readme"] for p in sorted(corpus.glob("cards-*.jsonl.gz")) for c in _rows(p)}
    return models, cards, _rows(corpus / "relations.jsonl.gz")


def _bare_refs(model: dict) -> list[str]:
    return [t[len("base_model:") :] for t in model["tags"] if t.startswith("base_model:") and t.count(":") == 1]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoManifest:
    """The default demo corpus (3,000 models), generated once for the module (its speed: bench/demo.py)."""
    return generate_corpus(tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="module")
def demo_files(demo: DemoManifest) -> tuple[dict[str, dict], dict[str, str], list[dict]]:
    return _load(demo.corpus_dir)


# --------------------------------------------------------------------------------------------------
# determinism and layout
# --------------------------------------------------------------------------------------------------


def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    first = generate_corpus(tmp_path / "a", n_models=400, seed=7)
    second = generate_corpus(tmp_path / "b", n_models=400, seed=7)
    other = generate_corpus(tmp_path / "c", n_models=400, seed=8)
    names = sorted(p.name for p in first.corpus_dir.iterdir())
    assert names == ["cards-00.jsonl.gz", "manifest.json", "models-00.jsonl.gz", "relations.jsonl.gz"]
    for name in names:
        assert (first.corpus_dir / name).read_bytes() == (second.corpus_dir / name).read_bytes(), name
    assert (first.corpus_dir / "models-00.jsonl.gz").read_bytes() != (
        other.corpus_dir / "models-00.jsonl.gz"
    ).read_bytes()


def test_the_default_demo_has_3000_models(demo: DemoManifest) -> None:
    assert demo.model_count == 3000


def test_models_are_shaped_like_the_hub_api(demo_files) -> None:
    models, _, _ = demo_files
    for model in models.values():
        assert re.fullmatch(r"[0-9a-f]{24}", model["_id"])
        assert re.fullmatch(r"[0-9a-f]{40}", model["sha"])
        assert model["id"] == model["modelId"]
        assert model["author"] == model["id"].split("/")[0]
        assert ISO_DATE.fullmatch(model["createdAt"]) and ISO_DATE.fullmatch(model["lastModified"])
        assert model["createdAt"] <= model["lastModified"]
        assert model["gated"] in (False, "auto", "manual")
        assert model["private"] is False and model["disabled"] is False
        assert model["downloadsAllTime"] >= model["downloads"] >= 0
        assert model["tags"][-1] == "region:us"
        assert ("gguf" in model) != ("safetensors" in model)
        assert None not in (model.get("pipeline_tag", ""), model.get("library_name", ""))
    assert len({m["_id"] for m in models.values()}) == len(models)
    assert len({i.lower() for i in models}) == len(models), "ids must be unique ignoring case"


def test_everything_is_labelled_synthetic(demo_files) -> None:
    models, cards, _ = demo_files
    assert all(_text.SYNTHETIC_TAG in m["tags"] for m in models.values())
    assert all(m["author"].startswith(("synth-", "synthlab-")) for m in models.values())
    assert all(_text.SYNTHETIC_BANNER in readme for readme in cards.values())


def test_typed_and_bare_lineage_tags_and_card_data_shapes(demo_files) -> None:
    models, _, _ = demo_files
    typed = Counter(t.split(":")[1] for m in models.values() for t in m["tags"] if t.count(":") == 2)
    assert set(typed) == set(RELATIONS)
    shapes = Counter(
        type(m["cardData"]["base_model"]).__name__ for m in models.values() if "base_model" in m.get("cardData", {})
    )
    assert shapes["str"] > 0 and shapes["list"] > 0
    quantized = [m for m in models.values() if any(t.startswith("base_model:quantized:") for t in m["tags"])]
    assert any("gguf" in m and "gguf" in m["tags"] for m in quantized)
    assert any(m.get("cardData", {}).get("base_model_relation") for m in models.values())
    for m in models.values():
        card_data = m.get("cardData", {})
        lic = card_data.get("license")
        assert [t[8:] for t in m["tags"] if t.startswith("license:")] == ([lic] if isinstance(lic, str) else lic or [])


# --------------------------------------------------------------------------------------------------
# ground truth
# --------------------------------------------------------------------------------------------------


def test_relations_match_the_children_tags_and_card_data(demo_files) -> None:
    models, cards, relations = demo_files
    parents_of: dict[str, list[dict]] = {}
    for row in relations:
        assert set(row) == {"parent", "child", "relation"}
        parents_of.setdefault(row["child"], []).append(row)
    assert set(parents_of) == {i for i, m in models.items() if _bare_refs(m)}
    for child, rows in parents_of.items():
        model = models[child]
        refs = _bare_refs(model)
        assert [r.lower() for r in refs] == [row["parent"].lower() for row in rows]
        relation = rows[0]["relation"]
        assert {row["relation"] for row in rows} == {relation}
        assert (len(rows) > 1) == (relation == "merge")
        assert [t for t in model["tags"] if t.startswith(f"base_model:{relation}:")] == [
            f"base_model:{relation}:{r}" for r in refs
        ]
        base = model["cardData"]["base_model"]
        assert ([base] if isinstance(base, str) else base) == refs
        front = yaml.safe_load(FRONT_MATTER.match(cards[child]).group(1))
        assert front == model["cardData"], "the README's front matter mirrors cardData"


def test_parents_exist_unless_dangling_and_case_mismatches_resolve(demo: DemoManifest, demo_files) -> None:
    manifest = demo
    models, _, relations = demo_files
    absent = {row["parent"] for row in relations if row["parent"] not in models}
    assert absent == set(manifest.dangling_parents)
    assert manifest.dangling_parents, "a few parents are referenced but absent"
    assert manifest.legacy_parents and all("/" not in p for p in manifest.legacy_parents)
    assert not {p.lower() for p in absent} & {i.lower() for i in models}, "dangling means absent in any case"
    assert manifest.case_mismatches
    for mismatch in manifest.case_mismatches:
        assert mismatch["parent"] in models
        assert mismatch["reference"] != mismatch["parent"]
        assert mismatch["reference"].lower() == mismatch["parent"].lower()
        assert mismatch["reference"] in _bare_refs(models[mismatch["child"]])


def test_depths_match_a_networkx_computation(demo: DemoManifest, demo_files) -> None:
    manifest = demo
    models, _, relations = demo_files
    lineage = nx.DiGraph((row["parent"], row["child"]) for row in relations)
    assert nx.is_directed_acyclic_graph(lineage)
    assert manifest.cycles == []
    tree = nx.DiGraph()
    tree.add_nodes_from(models)
    seen: set[str] = set()
    for row in relations:  # the tree parent is the first listed parent; absent parents are not followed
        if row["child"] not in seen:
            seen.add(row["child"])
            if row["parent"] in models:
                tree.add_edge(row["parent"], row["child"])
    depths = {node: len(nx.ancestors(tree, node)) for node in tree}
    assert depths == manifest.expected_depth
    assert 6 <= manifest.max_depth <= 8
    for model_id, parent in manifest.tree_parent.items():
        assert parent == next(r["parent"] for r in relations if r["child"] == model_id)


def test_families_are_heavy_tailed(demo: DemoManifest) -> None:
    manifest = demo
    sizes = sorted(manifest.family_sizes.values())
    assert len(sizes) >= 20
    assert sizes[-1] >= 10 * statistics.median(sizes), sizes
    assert manifest.singleton_count > manifest.model_count / 2, "most models have no relatives"
    assert sum(manifest.family_sizes.values()) + manifest.singleton_count == manifest.model_count


def test_cards_gating_and_quirks(demo: DemoManifest, demo_files) -> None:
    manifest = demo
    models, cards, _ = demo_files
    assert manifest.card_count == len(cards)
    assert manifest.cardless and not set(manifest.cardless) & set(cards)
    assert set(manifest.cardless) == set(models) - set(cards)
    assert {"auto", "manual"} <= set(manifest.gated.values())
    assert all(model_id in cards for model_id in manifest.gated), "gated models' cards exist"
    assert manifest.malformed_cards
    for model_id in manifest.malformed_cards:
        assert "cardData" not in models[model_id]
        match = FRONT_MATTER.match(cards[model_id])
        if match:  # not the unclosed kind: then the YAML itself is broken or not a mapping
            try:
                parsed = yaml.safe_load(match.group(1))
            except yaml.YAMLError:
                parsed = None
            assert not isinstance(parsed, dict), model_id
    autogen = set(manifest.autogenerated_cards)
    assert autogen
    for model_id in autogen:
        text = cards[model_id].lower()
        assert "automatically generated" in text or "generated automatically" in text
    children = {c for c in manifest.tree_parent if c in models}
    share_children = len(autogen & children) / len(children)
    share_singletons = len(autogen - children - set(manifest.roots)) / (
        manifest.singleton_count - len(manifest.cardless)
    )
    assert share_children > share_singletons, "derivatives leave the template card more often"


def test_licenses_and_languages_drift_from_parents_to_children(demo_files) -> None:
    models, _, relations = demo_files
    kept = changed = 0
    child_langs, parent_langs = [], []
    for row in relations:
        parent, child = models.get(row["parent"]), models[row["child"]]
        if parent is None:
            continue
        p = [t for t in parent["tags"] if t.startswith("license:")]
        c = [t for t in child["tags"] if t.startswith("license:")]
        if p:
            kept += p == c
            changed += p != c
        pl = [t for t in parent["tags"] if t in _text.ISO_639_1]
        if pl:
            parent_langs.append(len(pl))
            child_langs.append(len([t for t in child["tags"] if t in _text.ISO_639_1]))
    assert changed > kept, "most children drop or change their parent's license"
    assert statistics.mean(child_langs) < statistics.mean(parent_langs)


# --------------------------------------------------------------------------------------------------
# the parameters are used
# --------------------------------------------------------------------------------------------------


def test_relation_shares_follow_the_parameters(tmp_path: Path) -> None:
    params = load_params()
    params["lineage"]["share_with_parent"] = 0.5  # more edges, tighter shares
    manifest = generate_corpus(tmp_path / "big", n_models=4000, params=params)
    expected = params["lineage"]["relation_edge_shares"]
    total = manifest.edge_count
    assert total > 1800
    for relation in ("finetune", "adapter", "quantized"):
        assert manifest.edges_by_relation[relation] / total == pytest.approx(expected[relation], abs=0.04)
    assert manifest.params_sha256 != generate_corpus(tmp_path / "default", n_models=300).params_sha256


def test_changed_parameters_change_the_corpus(tmp_path: Path) -> None:
    params = copy.deepcopy(load_params())
    params["lineage"]["relation_edge_shares"] = {"finetune": 1.0, "adapter": 0.0, "quantized": 0.0, "merge": 0.0}
    params["demo"]["min_quirk_count"] = 0
    for spec in [params["drift"]["license"], *params["drift"]["license_by_parent"].values()]:
        spec.update(keep_share=1.0, drop_share=0.0, change_share=0.0)
    params["drift"]["license"]["gain_share_when_parent_has_none"] = 0.0
    manifest = generate_corpus(tmp_path / "ft", n_models=1500, params=params)
    assert manifest.edges_by_relation == {"finetune": manifest.edge_count, "adapter": 0, "quantized": 0, "merge": 0}
    models, _, relations = _load(manifest.corpus_dir)
    for row in relations:
        if row["parent"] in models:
            parent_license = [t for t in models[row["parent"]]["tags"] if t.startswith("license:")]
            assert [t for t in models[row["child"]]["tags"] if t.startswith("license:")] == parent_license


def test_params_name_the_corpus_behind_every_parameter() -> None:
    params = load_params()
    source = params["source"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", source["calibrated_on"])
    for name in ("hub-2024-07", "trees-2025-04", "cards-2022-02"):
        assert source["corpora"][name]["models"] > 0 and source["corpora"][name]["date"]
    covered = set(source["parameters"])
    for group in ("hub", "lineage", "drift", "cards", "repo", "demo"):
        for key in params[group]:
            assert f"{group}.{key}" in covered, f"{group}.{key} names no source corpus"
    assert set(source["parameters"].values()) <= {*source["corpora"], "choice (see demo.why)"}


# --------------------------------------------------------------------------------------------------
# the next night
# --------------------------------------------------------------------------------------------------


def test_evolve_corpus_changes_exactly_what_it_reports(tmp_path: Path) -> None:
    corpus = tmp_path / "night"
    before = generate_corpus(corpus, n_models=600, seed=3)
    old_models, old_cards, old_relations = _load(corpus)
    twin = tmp_path / "twin"
    shutil.copytree(corpus, twin)

    evo = evolve_corpus(corpus, seed=11, added=12, modified=10, deleted=5, counters_changed=20)
    models, cards, relations = _load(corpus)

    assert evo.manifest == DemoManifest.read(corpus)
    assert evo.manifest.model_count == before.model_count - 5 + 12 == len(models)
    assert not set(evo.deleted) & set(models) and not set(evo.deleted) & set(cards)
    assert not {r["child"] for r in relations} & set(evo.deleted)
    assert set(evo.added) == set(models) - set(old_models)
    for model_id in evo.added:
        assert model_id in cards and models[model_id]["createdAt"] > evo.previous_watermark
        assert any(r["child"] == model_id for r in relations)
    for model_id in evo.modified:
        new, old = models[model_id], old_models[model_id]
        assert new["sha"] != old["sha"] and new["lastModified"] > evo.previous_watermark
        assert cards[model_id] != old_cards.get(model_id)
    for model_id in evo.license_changed:
        lic = models[model_id]["cardData"]["license"]
        assert lic != old_models[model_id]["cardData"].get("license")
        assert yaml.safe_load(FRONT_MATTER.match(cards[model_id]).group(1))["license"] == lic
        assert f"license:{lic if isinstance(lic, str) else lic[0]}" in models[model_id]["tags"]
    for model_id in evo.counters_changed:
        new, old = models[model_id], old_models[model_id]
        assert (new["sha"], new["lastModified"]) == (old["sha"], old["lastModified"])
        assert new["downloadsAllTime"] > old["downloadsAllTime"]
    changed = {*evo.added, *evo.modified, *evo.counters_changed, *evo.deleted}
    for model_id in set(old_models) - changed:
        assert models[model_id] == old_models[model_id]
        assert cards.get(model_id) == old_cards.get(model_id)
    assert evo.watermark > evo.previous_watermark
    assert sorted(m for m in models if models[m]["lastModified"] > evo.previous_watermark) == evo.changed
    lineage = nx.DiGraph((r["parent"], r["child"]) for r in relations)
    assert nx.is_directed_acyclic_graph(lineage)
    assert len(relations) >= len(old_relations) - 5

    evolve_corpus(twin, seed=11, added=12, modified=10, deleted=5, counters_changed=20)
    for path in sorted(corpus.iterdir()):
        assert path.read_bytes() == (twin / path.name).read_bytes(), path.name


# --------------------------------------------------------------------------------------------------
# calibration against the real corpora
# --------------------------------------------------------------------------------------------------


def test_calibration_of_trees_and_cards_reproduces_the_committed_params(trees_corpus: Path, cards_corpus: Path) -> None:
    params = load_params()
    trees = calibrate.calibrate_trees(trees_corpus)
    cards = calibrate.calibrate_cards(cards_corpus)
    assert trees["relation_edge_shares"] == params["lineage"]["relation_edge_shares"]
    assert trees["drift_finetune"]["license"] == params["drift"]["license"]
    assert trees["drift_finetune"]["language"] == params["drift"]["language"]
    assert trees["gated"] == params["repo"]["gated"]
    assert trees["cards_finetune_children"]["autogenerated_share"] == params["cards"]["children"]["autogenerated_share"]
    assert cards["length_chars_handwritten"] == params["cards"]["singletons"]["length_chars_handwritten"]
    assert cards["malformed_share_of_front_matter"] == params["cards"]["singletons"]["malformed_share_of_front_matter"]


def _assert_close(actual: object, expected: object, path: str = "params") -> None:
    if isinstance(expected, dict):
        assert isinstance(actual, dict) and set(actual) == set(expected), path
        for key in expected:
            _assert_close(actual[key], expected[key], f"{path}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), path
        for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
            _assert_close(a, e, f"{path}[{i}]")
    elif isinstance(expected, float):
        assert actual == pytest.approx(expected, rel=1e-4, abs=1e-9), path
    else:
        assert actual == expected, path


@pytest.mark.slow
def test_full_calibration_reproduces_the_committed_params(
    hub_corpus: Path, trees_corpus: Path, cards_corpus: Path
) -> None:
    fresh = calibrate.calibrate(hub_corpus.parent)
    committed = load_params()
    fresh["source"].pop("calibrated_on")
    committed["source"].pop("calibrated_on")
    _assert_close(fresh, committed)


def test_calibration_says_what_to_do_when_corpora_are_missing(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert calibrate.main(["--hubdata", str(tmp_path), "--out", str(tmp_path / "params.json")]) == 2
    assert "--hubdata" in capsys.readouterr().err
    assert not (tmp_path / "params.json").exists()
