"""Every public module-level function of `engine` (those in `engine.__all__`) sits behind the
public-call boundary: a foreign exception raised inside comes out as a ConnectorServiceError
naming only its class, with no secret in its str, repr, args or `__context__`/`__cause__`."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import engine
import engine._connector
import engine._spec
from engine import ConnectorServiceError, UnsupportedError

from .leaks import exception_texts

SECRET = "sk_live_public_fn_0123456789abcdef"
CARD = "4242424242424242"


def _explode(*args: Any, **kwargs: Any) -> Any:
    raise KeyError(f"internal state {SECRET} {CARD}")


#: name → (the internal a foreign exception is raised from, how to call the function).
CASES: dict[str, tuple[tuple[object, str], Callable[[], Any]]] = {
    "load_connector": ((engine._connector, "find_spec"), lambda: engine.load_connector("stripe")),
    "bundled_connectors": (
        (engine._connector, "bundled_spec_paths"),
        engine.bundled_connectors,
    ),
    "lint_file": (
        (engine._spec, "load_spec_file"),
        lambda: engine.lint_file(Path(engine._spec.specs_dir()) / "stripe.yaml"),
    ),
}


def _public_functions() -> set[str]:
    return {
        name
        for name in engine.__all__
        if inspect.isfunction(getattr(engine, name)) and not name.startswith("_")
    }


def test_every_public_function_is_covered() -> None:
    assert _public_functions() == set(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_foreign_exception_leaves_as_an_engine_exception(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    (module, attribute), call = CASES[name]
    monkeypatch.setattr(module, attribute, _explode)
    with pytest.raises(ConnectorServiceError) as caught:
        call()
    exc = caught.value
    assert type(exc) is ConnectorServiceError
    assert "KeyError" in str(exc)
    assert exc.__context__ is None and exc.__cause__ is None
    for where, text in exception_texts(exc):
        assert SECRET not in text and CARD not in text, where
    for value in vars(exc).values():
        assert SECRET not in repr(value)


def test_an_unknown_connector_is_an_engine_error_naming_it() -> None:
    with pytest.raises(UnsupportedError) as caught:
        engine.load_connector("no_such_processor")
    assert "no_such_processor" in str(caught.value)
    assert "stripe" in str(caught.value)  # the bundled ones are listed
