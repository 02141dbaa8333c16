"""Generate ``dbt/seeds/iso_639_languages.csv`` from the CLDR data shipped with Babel.

Why Babel: it is already installed (dbt-core depends on agate, which depends on Babel), so the seed
can be regenerated on any machine with the project installed, without a network or a new package.
CLDR names every ISO 639-1 code (184, including the deprecated ``sh``) and a few hundred ISO 639-3
codes, and lists the 3-letter aliases of 2-letter codes (``eng`` -> ``en``, ``cmn`` -> ``zh``).

Three-letter Hub tags are ambiguous: ``trl``, ``dpo``, ``sft``, ``git``, ``man`` ... are library or
method tags far more often than languages. Codes in ``NOT_LANGUAGE_TAGS`` are left out of the seed
so the tag classifier never files them as languages.

Run from the repository root::

    .venv/bin/python dbt/scripts/generate_iso_639.py
"""

from __future__ import annotations

import csv
from pathlib import Path

from babel import Locale
from babel.core import get_global

SEED = Path(__file__).resolve().parents[1] / "seeds" / "iso_639_languages.csv"

#: 3-letter codes that, as Hub tags, almost always mean something other than a language.
NOT_LANGUAGE_TAGS = frozenset(
    {
        "art", "awq", "bin", "bit", "can", "car", "cpp", "css", "day", "dpo", "end", "esm", "for",
        "gan", "gem", "git", "gpt", "how", "ipa", "kim", "led", "llm", "lol", "man", "map", "med",
        "mit", "mix", "mms", "mod", "moe", "new", "nlp", "not", "of", "opt", "pdf", "phi", "pos",
        "pre", "rag", "rnn", "rvc", "sad", "sam", "sea", "ser", "set", "sex", "sft", "sql", "tax",
        "toy", "trl", "tts", "txt", "url", "use", "vit", "was", "web", "why", "win", "zip", "asr",
        "ner", "nli", "und", "zxx", "mul", "unk",
    }
)  # fmt: skip


def rows() -> list[dict[str, str]]:
    names = Locale("en").languages
    aliases = get_global("language_aliases")
    out: dict[str, dict[str, str]] = {}
    for code, name in names.items():
        if len(code) == 2:
            out[code] = {"language_code": code, "code_standard": "iso_639_1", "language_name": name,
                         "iso_639_1_code": code}  # fmt: skip
    for code, target in aliases.items():
        if len(code) == 3 and len(target) == 2 and target in out and code not in NOT_LANGUAGE_TAGS:
            out.setdefault(code, {"language_code": code, "code_standard": "iso_639_3",
                                  "language_name": names.get(code, out[target]["language_name"]),
                                  "iso_639_1_code": target})  # fmt: skip
    for code, name in names.items():
        if len(code) == 3 and code.isalpha() and code not in NOT_LANGUAGE_TAGS:
            out.setdefault(code, {"language_code": code, "code_standard": "iso_639_3",
                                  "language_name": name, "iso_639_1_code": ""})  # fmt: skip
    return sorted(out.values(), key=lambda row: (row["code_standard"], row["language_code"]))


def main() -> None:
    data = rows()
    with SEED.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(data[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(data)
    print(f"wrote {len(data)} codes to {SEED}")


if __name__ == "__main__":
    main()
