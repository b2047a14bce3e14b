"""engine._jmes_compile.root_fields and folded_search: an extraction whose every member of the
document it reads is absent or null has one value, computed once, exactly what searching gives;
an expression that reads the document otherwise is never folded."""

from __future__ import annotations

from typing import Any

import jmespath
import pytest

from engine._jmes_compile import folded_search, root_fields
from engine._renders import compile_jmespath


@pytest.mark.parametrize(
    ("source", "names"),
    [
        ("a", {"a"}),
        ("a.b || c[0].d", {"a", "c"}),
        ("a.type == 'x' && 'y'", {"a"}),
        ("a | (b == 'pass' && 'match') || @", {"a"}),
        ("contains(['p', 'q'], a.t || '') && 'v'", {"a"}),
        ("{x: a, y: b.c}", {"a", "b"}),
        ("sort_by(items, &amount)[0].id", {"items"}),
        ("items[?status == 'ok'].id | [0]", {"items"}),
        ("`1` && 'z'", set()),
        # The document itself: never folded.
        ("@", None),
        ("*.id", None),
        ("[0]", None),
        ("length(@)", None),
        ("keys(@) || a", None),
        ("[a, @]", None),
    ],
)
def test_root_fields_names_what_the_expression_reads_of_the_document(
    source: str, names: set[str] | None
) -> None:
    assert root_fields(jmespath.compile(source).parsed) == names


DOCUMENTS: list[Any] = [
    {},
    {"a": None},
    {"a": None, "c": None, "other": {"t": "x"}},
    {"a": {"t": "x", "b": "y"}},
    {"a": {"t": "q"}, "c": [{"d": 1}]},
    {"a": "text", "b": {"c": 0}},
    {"items": [{"amount": 2, "id": "i2", "status": "ok"}, {"amount": 1, "id": "i1"}]},
    {"a": [], "b": ""},
    [],
    None,
]


def _outcome(search: Any, document: Any) -> Any:
    try:
        return ("value", search(document))
    except Exception as exc:  # an error is an outcome too: it must be the same one
        return ("error", type(exc).__name__)


def test_a_folded_search_keeps_only_what_no_member_made() -> None:
    calls: list[Any] = []

    def search(document: Any) -> Any:
        calls.append(document)
        return jmespath.search("a.t == 'x' && 'redirect'", document)

    folded = folded_search(search, {"a"})
    assert folded({"a": {"t": "x"}}) == "redirect"
    assert folded.kept == []  # type: ignore[attr-defined]  # a present member: never kept
    assert folded({}) is False
    assert folded({"a": None, "z": 1}) is False
    assert len(calls) == 2  # the second absent document was answered from what was kept
    assert folded.kept == [False]  # type: ignore[attr-defined]


def test_a_built_value_is_never_handed_out_twice() -> None:
    folded = folded_search(lambda document: jmespath.search("[a, b]", document), {"a", "b"})
    first = folded({})
    assert first == [None, None]
    first.append("changed by a caller")
    assert folded({}) == [None, None]


def test_every_bundled_extraction_folds_to_what_searching_gives() -> None:
    """Each JMESPath expression of the bundled specs, over documents with its members absent,
    null and present (all alike, then mixed), in two orders: the engine's search gives what
    jmespath's own search gives on the same document."""
    import engine._spec_cache as cache
    from engine._spec import bundled_spec_paths

    sources: set[str] = set()
    for path in bundled_spec_paths():
        module = cache.loaded_module(path)
        assert module is not None, path.stem
        sources.update(module.jmespath())
    folded = 0
    for source in sorted(sources):
        parsed = jmespath.compile(source)
        names = root_fields(parsed.parsed)
        documents = list(DOCUMENTS)
        if names:
            ordered = sorted(names)
            documents += [
                dict.fromkeys(ordered),
                {name: {"x": "1"} for name in ordered},
                {name: [{"x": "1"}] for name in ordered},
                {name: (None, "t", 0)[i % 3] for i, name in enumerate(ordered)},
            ]
        for order in (documents, documents[::-1]):
            compile_jmespath.cache_clear()
            search = compile_jmespath(source)
            folded += hasattr(search, "kept")
            for document in order:
                assert _outcome(search, document) == _outcome(parsed.search, document), (
                    source,
                    document,
                )
    assert folded > 100
