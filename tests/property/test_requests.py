"""Unified request validation, for every flow of every processor: a request valid for the
schema and the processor is built; the same request with one field made invalid is refused
with an InputError naming that field, and nothing is sent.

Requests are generated from schemas/unified/ by tests/property/schema_values.py (hand-written
strategies that read the schemas), not by hypothesis-jsonschema: that package is on PyPI but
is not a project dependency, targets drafts 4-7 (these schemas are 2020-12 with cross-file
`$ref`s and `dependentRequired`), and knows nothing of the processor-specific fitting or of
the expected pointer of each mutation, which is the point here.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import InputError

from .processors import CONNECTORS, FLOW_PAIRS, RecordingTransport, accepted_requests, build_first
from .schema_values import Mutation, mutations

PAIR_IDS = [f"{cid}-{flow}" for cid, flow in FLOW_PAIRS]


@st.composite
def mutated(draw: st.DrawFn, cid: str, flow: str) -> tuple[dict[str, Any], Mutation]:
    request = draw(accepted_requests(CONNECTORS[cid], flow))
    return request, draw(st.sampled_from(mutations(request, flow)))


@pytest.mark.parametrize(("cid", "flow"), FLOW_PAIRS, ids=PAIR_IDS)
@given(data=st.data())
def test_an_accepted_request_is_built(cid: str, flow: str, data: st.DataObject) -> None:
    """The generator's requests are ones the processor accepts: so a refusal below is the
    mutation's doing, not the base request's."""
    built = build_first(CONNECTORS[cid], flow, data.draw(accepted_requests(CONNECTORS[cid], flow)))
    assert built.method in ("GET", "POST", "PUT", "PATCH", "DELETE")
    assert built.url.startswith("https://")


@pytest.mark.parametrize(("cid", "flow"), FLOW_PAIRS, ids=PAIR_IDS)
@given(data=st.data())
def test_building_leaves_the_request_unchanged(cid: str, flow: str, data: st.DataObject) -> None:
    """build is pure: the caller's request is not changed (no schema defaults written in)."""
    request = data.draw(accepted_requests(CONNECTORS[cid], flow))
    before = copy.deepcopy(request)
    build_first(CONNECTORS[cid], flow, request)
    assert request == before


@pytest.mark.parametrize(("cid", "flow"), FLOW_PAIRS, ids=PAIR_IDS)
@given(data=st.data())
def test_one_bad_field_is_refused_by_its_pointer(cid: str, flow: str, data: st.DataObject) -> None:
    request, mutation = data.draw(mutated(cid, flow))
    bad = mutation.apply(request)
    with pytest.raises(InputError) as refused:
        build_first(CONNECTORS[cid], flow, bad)
    assert refused.value.pointer == mutation.expected_pointer


KEY_NULL = ("/idempotency_key", None)


@pytest.mark.parametrize(("cid", "flow"), FLOW_PAIRS, ids=PAIR_IDS)
@given(data=st.data())
def test_a_client_sends_nothing_for_a_bad_request(cid: str, flow: str, data: st.DataObject) -> None:
    request, mutation = data.draw(
        # A Client reads an explicit null key as no key, and generates one (documented).
        mutated(cid, flow).filter(lambda m: (m[1].pointer, m[1].value) != KEY_NULL)
    )
    transport = RecordingTransport()
    with transport.client(CONNECTORS[cid]) as client, pytest.raises(InputError) as refused:
        client.call(flow, mutation.apply(request))
    assert refused.value.pointer == mutation.expected_pointer
    assert transport.sent == []


@pytest.mark.parametrize(("cid", "flow"), FLOW_PAIRS, ids=PAIR_IDS)
@settings(max_examples=3)
@given(data=st.data())
def test_the_recording_transport_sees_an_accepted_request(
    cid: str, flow: str, data: st.DataObject
) -> None:
    """The control for the test above: the same transport does record what a Client sends."""
    connector = CONNECTORS[cid]
    request = data.draw(accepted_requests(connector, flow))
    transport = RecordingTransport()
    with transport.client(connector) as client:
        result = client.call(flow, request)
    assert len(transport.sent) == 1  # the 500 ends the flow at its first request
    assert result.status in ("unresolved", "failed")
