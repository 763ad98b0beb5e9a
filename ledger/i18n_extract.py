"""The `pybabel extract` method for the product's Python files: Babel's own extraction plus the
default message of every refusal type (the first line of the docstring of each class that
descends from `ledger.errors.LedgerError`, which `LedgerError.default_message` translates when
shown).

The family of refusal types is read from the source with `ast` (nothing of the product is
imported, so extraction needs no database and no settings): every class in the `ledger` package
whose bases name `LedgerError` or one of its descendants, followed across modules by class name.
Registered in babel.cfg (`[extractors]`); `pybabel` finds it with `PYTHONPATH=.` (the Makefile's
translations-update target sets it).
"""
from __future__ import annotations

import ast
from functools import lru_cache
from pathlib import Path

from babel.messages.extract import extract_python

PACKAGE = Path(__file__).resolve().parent
ROOT_ERROR = "LedgerError"


def _base_names(node: ast.ClassDef) -> list[str]:
    names = []
    for base in node.bases:
        if isinstance(base, ast.Name):
            names.append(base.id)
        elif isinstance(base, ast.Attribute):
            names.append(base.attr)
    return names


@lru_cache(maxsize=1)
def refusal_class_names() -> frozenset[str]:
    """The names of `LedgerError` and every class in the package that descends from it."""
    bases: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                bases.setdefault(node.name, set()).update(_base_names(node))
    family = {ROOT_ERROR}
    grown = True
    while grown:
        grown = False
        for name, parents in bases.items():
            if name not in family and parents & family:
                family.add(name)
                grown = True
    return frozenset(family)


def _doc_message(docstring: str | None) -> str:
    # the same rule as ledger.errors.doc_message (not imported: extraction imports nothing of the product)
    text = (docstring or "").strip()
    return text.splitlines()[0].strip() if text else ""


def error_docstrings(source: str):
    """(line number, message) of each refusal class's default message in `source`."""
    family = refusal_class_names()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ClassDef) and (node.name in family or set(_base_names(node)) & family):
            message = _doc_message(ast.get_docstring(node, clean=False))
            if message:
                yield node.body[0].lineno, message


def extract(fileobj, keywords, comment_tags, options):
    """Babel's extraction method: what `extract_python` finds, then the refusals' default messages."""
    yield from extract_python(fileobj, keywords, comment_tags, options)
    fileobj.seek(0)
    source = fileobj.read().decode(options.get("encoding", "utf-8"))
    for lineno, message in error_docstrings(source):
        yield lineno, None, message, []
