"""Bundled specs compile each flow on first use; any other spec file compiles whole at load."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import yaml

from engine import SpecError, load_connector
from engine._compile import compile_spec
from engine._load import load_spec_text
from engine._plan import FlowPlan, LazyFlows, LazyValue

from .conftest import acme_dict


def _broken_spec_text() -> str:
    data = acme_dict()
    data["flows"]["refund"]["request"]["path"] = "/v1/refunds/{{ request.no_such_field }}"
    return yaml.safe_dump(data, sort_keys=False)


def test_bundled_connectors_compile_flows_on_first_use() -> None:
    flows = load_connector("stripe").plan.flows
    assert isinstance(flows, LazyFlows)
    assert "authorize" in flows and len(flows) == len(list(flows))
    assert isinstance(flows["authorize"], FlowPlan)
    assert flows["authorize"] is flows["authorize"]  # compiled once, then kept
    with pytest.raises(KeyError):
        flows["no_such_flow"]


def test_compile_all_compiles_every_flow() -> None:
    connector = load_connector("adyen").compile_all()
    assert all(isinstance(connector.plan.flows[f], FlowPlan) for f in connector.flows)


def test_a_spec_file_is_compiled_whole_at_load(tmp_path: Path) -> None:
    path = tmp_path / "acme.yaml"
    path.write_text(_broken_spec_text())
    with pytest.raises(SpecError) as raised:
        load_connector(str(path))
    assert "no_such_field" in str(raised.value)


def test_a_lazy_flow_reports_its_problems_with_their_position_on_first_use() -> None:
    plan, problems = compile_spec(load_spec_text(_broken_spec_text(), "acme.yaml"), lazy_flows=True)
    assert plan is not None and problems == []
    assert isinstance(plan.flows["authorize"], FlowPlan)  # the other flows are fine
    with pytest.raises(SpecError) as raised:
        plan.flows["refund"]
    (problem,) = raised.value.problems
    assert problem.pointer == "/flows/refund/request/path"
    assert problem.file == "acme.yaml" and problem.line > 1 and problem.col > 1


def test_concurrent_first_uses_compile_a_flow_once() -> None:
    calls: list[str] = []
    gate = threading.Barrier(8)

    def compile_flow(name: str) -> FlowPlan:
        calls.append(name)
        return load_connector("stripe").plan.flows[name]

    flows = LazyFlows(("authorize",), compile_flow)
    seen: list[FlowPlan] = []

    def use() -> None:
        gate.wait()
        seen.append(flows["authorize"])

    threads = [threading.Thread(target=use) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert calls == ["authorize"]
    assert len(seen) == 8 and all(flow is seen[0] for flow in seen)


def test_a_bundled_connector_is_read_on_first_use(monkeypatch: pytest.MonkeyPatch) -> None:
    from engine import _connector

    read: list[Path] = []
    compile_file = _connector.compile_file

    def counting(path: Path, **options: bool) -> object:
        read.append(path)
        return compile_file(path, **options)

    monkeypatch.setattr(_connector, "compile_file", counting)
    connector = _connector.Connector._bundled(_connector.specs_dir() / "stripe.yaml")
    assert connector.id == "stripe" and read == []  # the id is the file's name
    gate = threading.Barrier(8)
    plans: list[object] = []

    def use() -> None:
        gate.wait()
        plans.append(connector.plan)

    threads = [threading.Thread(target=use) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(read) == 1 and all(plan is plans[0] for plan in plans)
    assert connector.plan.id == "stripe" and isinstance(connector.plan.flows, LazyFlows)


def test_every_bundled_id_is_its_plans() -> None:
    from engine import bundled_connectors

    for connector in bundled_connectors():
        assert connector.id == connector.plan.id


def test_auth_and_webhooks_of_a_bundled_spec_compile_on_first_use() -> None:
    from engine._spec import compile_file, find_spec

    plan = compile_file(find_spec("adyen"), lazy_flows=True)  # a plan of its own, unused
    for lazy in (plan.auth_of, plan.webhooks_of):
        assert isinstance(lazy, LazyValue)
        assert not lazy._made  # nothing compiled by loading the spec
    assert plan.auth is plan.auth and plan.webhooks is plan.webhooks  # compiled once, kept
    assert plan.webhooks is not None and plan.webhooks.signature is not None


def test_lazy_webhooks_report_their_problems_with_their_position_on_first_use() -> None:
    data = acme_dict()
    data["webhooks"]["signature"]["message"] = "{{ timestamp }}.{{ body | no_such_filter }}"
    text = yaml.safe_dump(data, sort_keys=False)
    with pytest.raises(SpecError):  # compiled whole: the problem is found at load
        compile_spec_or_raise(text)
    plan, problems = compile_spec(load_spec_text(text, "acme.yaml"), lazy_flows=True)
    assert plan is not None and problems == []
    with pytest.raises(SpecError) as raised:
        _ = plan.webhooks
    (problem,) = raised.value.problems
    assert problem.pointer == "/webhooks/signature/message" and problem.line > 1


def compile_spec_or_raise(text: str) -> None:
    plan, problems = compile_spec(load_spec_text(text, "acme.yaml"))
    if plan is None:
        raise SpecError(problems)


def test_concurrent_first_uses_make_a_lazy_value_once() -> None:
    calls: list[int] = []
    gate = threading.Barrier(8)

    def make() -> object:
        calls.append(1)
        return object()

    value = LazyValue(make)
    seen: list[object] = []

    def use() -> None:
        gate.wait()
        seen.append(value())

    threads = [threading.Thread(target=use) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert calls == [1] and all(item is seen[0] for item in seen)
