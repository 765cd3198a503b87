"""The glossary (docs/glossary.rst) names every Italian term of the notes, and every Python name
it gives exists: a renamed or removed API breaks this test, not a reader."""

from __future__ import annotations

import pkgutil
import re
from pathlib import Path

import pytest

GLOSSARY = Path(__file__).resolve().parents[1] / "docs" / "glossary.rst"

# The terms the notes use (issue 19); the glossary may hold more.
NOTES_TERMS = [
    "addestramento", "insieme di addestramento", "insieme di validazione", "insieme di test",
    "strati di neuroni", "neurone", "pesi e bias", "funzione di attivazione",
    "passaggio in avanti", "epoca", "epoche", "uscita", "funzione di costo", "retropropagazione",
    "dimensione del batch", "algoritmi di ottimizzazione", "inferenza",
    "gradiente che svanisce", "gradiente che esplode", "normalizzazione del batch",
    "inizializzazione He", "inizializzazione Xavier", "clipping del gradiente", "momento",
    "Adam", "dropout", "regolarizzazione L2", "rappresentazione distribuita", "word embedding",
    "overfitting", "tasso di apprendimento",
    # and those the pages of examples/notes/ set in italics
    "funzioni di attivazione", "propagazione in avanti", "funzione di perdita",
    "algoritmo di ottimizzazione", "discesa del gradiente", "reti profonde",
    "gradienti che svaniscono", "gradienti che esplodono", "confine di decisione",
    "visualizzazione", "gerarchia delle caratteristiche", "profondità vs. efficienza",
    "regolarizzazione", "rappresentazioni distribuite", "sovradattamento", "vettore di parola",
]  # fmt: skip


def _entries() -> dict[str, str]:
    """Each term of the glossary directive mapped to its definition's text."""
    text = GLOSSARY.read_text(encoding="utf-8")
    body = text.split(".. glossary::", 1)[1]
    entries: dict[str, str] = {}
    terms: list[str] = []
    for line in body.splitlines():
        if line.startswith("   ") and not line.startswith("      ") and line.strip():
            if line.strip().startswith(":"):
                continue  # an option of the directive
            if not terms or entries.get(terms[-1]):
                terms = []
            terms.append(line.strip())
            entries[terms[-1]] = ""
        elif line.startswith("      "):
            for term in terms:
                entries[term] += line.strip() + " "
    return entries


def test_every_notes_term_has_a_definition_naming_the_api() -> None:
    entries = _entries()
    missing = [term for term in NOTES_TERMS if term not in entries]
    assert not missing, f"glossary lacks {missing}"
    no_api = [term for term, text in entries.items() if ":obj:`sinapsi" not in text]
    assert not no_api, f"these glossary entries name no sinapsi API: {no_api}"


def _api_names() -> list[str]:
    text = GLOSSARY.read_text(encoding="utf-8")
    return sorted(set(re.findall(r":obj:`(sinapsi(?:\.\w+)+)`", text)))


def test_the_glossary_names_many_api_objects() -> None:
    assert len(_api_names()) > 40


@pytest.mark.parametrize("dotted", _api_names())
def test_every_api_name_in_the_glossary_exists(dotted: str) -> None:
    pkgutil.resolve_name(dotted)  # ImportError or AttributeError if it does not exist
