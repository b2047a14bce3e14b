"""Processor HttpResponse → unified Result. Pure, and total: any bytes give a Result.

The outcome table (engine/_outcomes.py, documented in docs/outcomes.md):
a response the engine cannot be sure of is `unresolved`, never `failed`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import replace
from email.utils import parsedate_to_datetime
from typing import Any

from ._build import flow_plan
from ._encoding import DecodeError
from ._errors import RenderError
from ._http import HttpResponse
from ._next_actions import next_action_of
from ._outcomes import DEFINITE_REFUSALS, HTTP_ERROR_CODES, UNCERTAIN_HTTP, decline_class
from ._plan import ConnectorPlan, ErrorPlan, ResponsePlan, bind
from ._result_fields import shape
from ._retry import key_placed, settle
from ._scrub import Scrubber
from ._unified import (
    READ_FLOWS,
    RETRYABLE_CODES,
    ErrorCode,
    ErrorInfo,
    FindStatus,
    Match,
    PaymentStatus,
    Result,
)


def _unified_error(code: str, message: str, http_status: int | None, **processor: Any) -> ErrorInfo:
    """An error whose `retryable` says only whether its code is worth trying again; whether
    sending the request again is safe is decided once, by engine._retry.settle."""
    return ErrorInfo(
        code=str(code),
        message=message,
        retryable=code in RETRYABLE_CODES,
        http_status=http_status,
        **processor,
    )


def unresolved(
    plan: ConnectorPlan,
    flow: str,
    code: str,
    message: str,
    *,
    http_status: int | None = None,
    idempotency_key: str | None = None,
    request: Mapping[str, Any] | None = None,
    ids: Mapping[str, str | None] | None = None,
) -> Result:
    """The result for an outcome the engine cannot know: the caller must run `get` (or `find`).
    It carries what resolving it needs: the key, the merchant's `reference`, and any processor
    id known — the request's `connector_transaction_id`, or `ids` the flow's `fields` could
    still read from the answer. Its `retryable` is the code's until engine._retry.settle
    (parse_response, the client) decides whether sending again is safe."""
    known = {k: v for k, v in (ids or {}).items() if v}
    sent = request or {}
    return Result(
        connector_transaction_id=known.get("connector_transaction_id")
        or _text(sent.get("connector_transaction_id")),
        connector_refund_id=known.get("connector_refund_id")
        or _text(sent.get("connector_refund_id")),
        connector_reference=known.get("connector_reference"),
        reference=_text(sent.get("reference")) or known.get("reference"),
        flow=flow,
        connector=plan.id,
        status=str(PaymentStatus.UNRESOLVED),
        error=_unified_error(code, message, http_status),
        http_status=http_status,
        idempotency_key=idempotency_key,
    )


_ID_FIELDS = ("connector_transaction_id", "connector_refund_id", "connector_reference", "reference")


def known_ids(
    compiled: ResponsePlan, body: Any, context: Mapping[str, Any]
) -> dict[str, str | None]:
    """The ids the flow's `fields` can read from what is known (an answer the engine cannot
    trust in full, the earlier steps): each extraction is attempted and any failure skipped."""
    ids: dict[str, str | None] = {}
    for name, extract in compiled.fields:
        if name in _ID_FIELDS:
            try:
                ids[name] = _text(extract(body, context))
            except Exception:  # a shape surprise leaves the id unknown
                ids[name] = None
    return ids


def retry_after(headers: Any) -> float | None:
    """The answer's Retry-After in seconds (delta-seconds or an HTTP date), or None."""
    value = headers.get("retry-after") if isinstance(headers, Mapping) else None
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        return max(0.0, parsedate_to_datetime(text).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _text(value: Any) -> str | None:
    if type(value) is str:  # the common case, without the ABC check
        return value
    if value is None or isinstance(value, Mapping | list | bool):
        return None
    return str(value)


def _read_error(
    plan: ErrorPlan,
    body: Any,
    context: Mapping[str, Any],
    http_status: int,
    scrubber: Scrubber,
) -> ErrorInfo:
    """The unified error of a refusal. Order: the processor's code (then decline code) through
    `map`; the spec's `http_status` table; the engine's HTTP table; the spec's `default`.
    After a 5xx/408/409 the processor's code never turns the outcome into a decline."""
    connector_code = _text(plan.code(body, context)) if plan.code else None
    connector_message = _text(plan.message(body, context)) if plan.message else None
    decline_code = _text(plan.decline_code(body, context)) if plan.decline_code else None
    advice_code = _text(plan.advice_code(body, context)) if plan.advice_code else None
    uncertain = http_status in UNCERTAIN_HTTP
    code: str | None = None
    if not uncertain:
        if connector_code is not None:
            code = plan.code_map.get(connector_code)
        if code is None and decline_code is not None:
            code = plan.code_map.get(decline_code)
    if code is None:
        code = plan.by_http_status.get(http_status)
    if code is None and (uncertain or (http_status >= 400 and http_status != 402)):
        code = HTTP_ERROR_CODES.get(http_status)
    unexplained = False
    if code is None:
        code = plan.default or HTTP_ERROR_CODES.get(http_status)
    if code is None:
        code, unexplained = ErrorCode.PROCESSOR_ERROR, True
    if connector_message is not None:
        connector_message = scrubber.text(connector_message)
    error = _unified_error(
        code,
        connector_message or f"{plan_label(code)}",
        http_status,
        connector_code=connector_code,
        connector_message=connector_message,
        decline_code=decline_code,
        decline_class=decline_class(code, advice_code),
        advice_code=advice_code,
        retry_after=retry_after(context.get("headers")),
    )
    if unexplained and http_status < 300:
        # An unexplained 2xx refusal is still the processor's final word: not worth retrying.
        error = replace(error, retryable=False)
    return error


def _contradiction(
    plan: ConnectorPlan, compiled: ResponsePlan, body: Any, context: Mapping[str, Any]
) -> str | None:
    """What the answer says that contradicts the request (`response.echo`), or None."""
    request = context["request"]
    for name, extract in compiled.echo:
        sent = request.get(name)
        echoed = extract(body, context)
        if sent is None or echoed is None or isinstance(echoed, Mapping | list):
            if sent is not None and isinstance(echoed, Mapping | list):
                return f"{name} is not a single value"
            continue
        if name == "amount":
            currency = request.get("currency")
            same = currency is not None and plan.parse_amount(echoed, currency) == sent
        elif name == "currency":
            same = str(echoed).upper() == str(sent).upper()
        else:
            same = _text(echoed) == str(sent)
        if not same:
            return f"the request's {name} is {sent!r}, the answer's {_text(echoed)!r}"
    return None


def _status_of(
    compiled: ResponsePlan, body: Any, context: Mapping[str, Any]
) -> tuple[str | None, str | None, bool]:
    """(unified status, the processor's status as read, whether a rule declared that value
    `unresolved`) from the first status rule that decides; (None, …) when none does."""
    connector_status = None
    for rule in compiled.status_rules:
        if rule.read is not None:
            value = _text(rule.read(body, context))
            if connector_status is None:
                connector_status = value
            if value is None:
                continue
            if value in rule.unresolved:
                return None, value, True
            target = rule.table.get(value)
            if target is not None:
                return str(target(context)), value, False
        elif rule.value is not None and (rule.when is None or rule.when(context)):
            return str(rule.value(context)), connector_status, False
    return None, connector_status, False


def _explained(plan: ErrorPlan, refusal: ErrorInfo, http_status: int) -> bool:
    """Whether an HTTP 4xx refusal is definite: a status that is one by itself, a status the
    spec's `error.http_status` table names, or a processor code its `map` knows."""
    if http_status in DEFINITE_REFUSALS or http_status in plan.by_http_status:
        return True
    codes = (refusal.connector_code, refusal.decline_code)
    return any(code is not None and code in plan.code_map for code in codes)


def plan_label(code: str) -> str:
    return code.replace("_", " ").capitalize()


def parse_response(
    plan: ConnectorPlan,
    flow: str,
    request: Mapping[str, Any],
    response: HttpResponse,
    *,
    idempotency_key: str | None = None,
    steps: Mapping[str, Any] | None = None,
    key_sent: bool | None = None,
    scrubber: Scrubber | None = None,
) -> Result:
    """The unified result of `flow` for this processor response. Never raises for any
    response content; raises UnsupportedError only for a flow the spec does not have.
    `steps` are the decoded answers of the flow's earlier steps, by name. `key_sent` is
    whether the request carried the idempotency key (`HttpRequest.carries_key`); by default
    the plan's placement of the key and the request's key decide (see engine._retry).
    `scrubber` is the sent request's (HttpRequest.scrubber): every string of the Result is
    scrubbed with it, so a processor echoing a key or a card number back leaks neither."""
    card = (request.get("payment_method") or {}).get("card") or {}
    learned = (scrubber or Scrubber()).learn(
        *(str(card[k]) for k in ("number", "cvc") if card.get(k))
    )
    result = _parse_response(
        plan,
        flow,
        request,
        response,
        idempotency_key=idempotency_key,
        steps=steps,
        scrubber=learned,
    )
    sent = key_placed(plan, flow, request) if key_sent is None else key_sent
    reference = _text(request.get("reference"))
    return learned.result(settle(plan, flow, result, key_sent=sent, reference=reference))


def _parse_response(
    plan: ConnectorPlan,
    flow: str,
    request: Mapping[str, Any],
    response: HttpResponse,
    *,
    idempotency_key: str | None,
    steps: Mapping[str, Any] | None,
    scrubber: Scrubber,
) -> Result:
    compiled = flow_plan(plan, flow).response
    status_code = response.status_code
    key = idempotency_key or request.get("idempotency_key")
    if not 100 <= status_code <= 599:
        return unresolved(
            plan,
            flow,
            ErrorCode.INVALID_RESPONSE,
            f"HTTP status {status_code} is not an HTTP status",
            http_status=status_code,
            idempotency_key=key,
            request=request,
        )
    try:
        body = compiled.decode(response.body)
    except DecodeError as exc:
        if status_code in UNCERTAIN_HTTP:
            code = HTTP_ERROR_CODES.get(status_code, ErrorCode.PROCESSOR_ERROR)
            return unresolved(
                plan,
                flow,
                code,
                f"HTTP {status_code} from the processor",
                http_status=status_code,
                idempotency_key=key,
                request=request,
            )
        if 400 <= status_code < 500 and not response.body.strip():
            # A definite rejection with nothing to say (a 401 or 404 with an empty body): there
            # is nothing to decode, and the HTTP status alone gives the error code.
            body = None
        else:
            return unresolved(
                plan,
                flow,
                ErrorCode.INVALID_RESPONSE,
                f"the response could not be read ({exc})",
                http_status=status_code,
                idempotency_key=key,
                request=request,
            )
    headers = {k.lower(): v for k, v in response.headers.items()}
    context = {"request": request, "response": body, "headers": headers, "http_status": status_code}
    if steps is not None:
        context["steps"] = steps
    try:
        return _interpret(plan, flow, compiled, body, context, status_code, key, scrubber)
    except Exception as exc:  # any shape surprise in a processor's answer is not knowable
        detail = str(exc) if isinstance(exc, RenderError) else type(exc).__name__
        return unresolved(
            plan,
            flow,
            ErrorCode.INVALID_RESPONSE,
            f"the response had an unexpected shape ({detail})",
            http_status=status_code,
            idempotency_key=key,
            request=request,
            ids=known_ids(compiled, body, context),
        )


def parse_step(
    plan: ConnectorPlan,
    flow: str,
    index: int,
    request: Mapping[str, Any],
    response: HttpResponse,
    *,
    steps: Mapping[str, Any] | None = None,
    idempotency_key: str | None = None,
    key_sent: bool | None = None,
    scrubber: Scrubber | None = None,
) -> Any:
    """The decoded answer of step `index` of `flow` (to pass on as `steps.<name>`), or, when the
    step failed, the flow's Result: `failed`, since steps before the last move no money (but
    for a refusal saying the key is in use: see engine._retry.settle). `scrubber` (the sent
    request's) scrubs that Result's strings."""
    step = flow_plan(plan, flow).steps[index]
    key = idempotency_key or request.get("idempotency_key")
    status_code = response.status_code
    try:
        body = step.response.decode(response.body)
    except DecodeError:
        body = None
    headers = {k.lower(): v for k, v in response.headers.items()}
    context = {
        "request": request,
        "response": body,
        "headers": headers,
        "http_status": status_code,
        "steps": dict(steps or {}),
    }
    try:
        refused = step.response.error_when is not None and step.response.error_when(body, context)
    except Exception:
        refused = True
    contradiction = None
    if 200 <= status_code < 300 and body is not None and not refused:
        try:
            contradiction = _contradiction(plan, step.response, body, context)
        except Exception:
            contradiction = "its answer could not be compared with the request"
        if contradiction is None:
            return body
    scrubber = scrubber or Scrubber()
    try:
        error = _read_error(step.response.error, body, context, status_code, scrubber)
    except Exception:
        error = _unified_error(ErrorCode.INVALID_RESPONSE, "unreadable step answer", status_code)
    if body is None and 200 <= status_code < 300:
        error = _unified_error(
            ErrorCode.INVALID_RESPONSE, f"step {step.name!r}: unreadable answer", status_code
        )
    if contradiction is not None:  # a stale or misrouted answer: nothing later may build on it
        error = _unified_error(
            ErrorCode.INVALID_RESPONSE,
            f"the answer is not about this request: {contradiction}",
            status_code,
        )
    if not 100 <= status_code <= 599:  # no HTTP status: its body says nothing either
        error = _unified_error(
            ErrorCode.INVALID_RESPONSE,
            f"HTTP status {status_code} is not an HTTP status",
            status_code,
        )
    failed = Result(
        flow=flow,
        connector=plan.id,
        status=str(PaymentStatus.FAILED),
        error=replace(error, message=f"step {step.name!r}: {error.message}"),
        http_status=status_code,
        idempotency_key=key,
    )
    sent = key_placed(plan, flow, request, index) if key_sent is None else key_sent
    reference = _text(request.get("reference"))
    return scrubber.result(settle(plan, flow, failed, key_sent=sent, reference=reference))


def _interpret(
    plan: ConnectorPlan,
    flow: str,
    compiled: ResponsePlan,
    body: Any,
    context: dict[str, Any],
    status_code: int,
    key: str | None,
    scrubber: Scrubber,
) -> Result:
    bind(compiled.bindings, context)
    fields = {} if compiled.matches is not None else _read_fields(plan, compiled, body, context)
    common: dict[str, Any] = {
        "flow": flow,
        "connector": plan.id,
        "http_status": status_code,
        "idempotency_key": key,
    }

    contradiction = _contradiction(plan, compiled, body, context)
    if contradiction is not None:
        request = context["request"]
        return unresolved(
            plan,
            flow,
            ErrorCode.INVALID_RESPONSE,
            f"the answer is not about this request: {contradiction}",
            http_status=status_code,
            idempotency_key=key,
            request=request,
        )

    if status_code < 200 or 300 <= status_code < 400:
        # Not an answer to the request (a redirect is never followed): the outcome is unknown.
        return Result(
            status=str(PaymentStatus.UNRESOLVED),
            error=_unified_error(
                ErrorCode.INVALID_RESPONSE, f"unexpected HTTP {status_code}", status_code
            ),
            **common,
        )
    failed_http = status_code >= 400
    if failed_http or (compiled.error_when is not None and compiled.error_when(body, context)):
        refusal = _read_error(compiled.error, body, context, status_code, scrubber)
        # A refused read (get, get_refund) leaves the payment's status unknown, not failed;
        # so does a 4xx that neither the engine nor the spec can explain.
        uncertain = status_code in UNCERTAIN_HTTP or flow in READ_FLOWS
        if (
            400 <= status_code < 500
            and status_code not in UNCERTAIN_HTTP
            and not _explained(compiled.error, refusal, status_code)
        ):
            uncertain = True
            refusal = replace(
                refusal,
                code=str(ErrorCode.PROCESSOR_ERROR),
                retryable=ErrorCode.PROCESSOR_ERROR in RETRYABLE_CODES,
            )
        if refusal.connector_code in compiled.error.unresolved:
            # The processor says it does not know the outcome (a timeout on its side).
            uncertain = True
            refusal = replace(
                refusal,
                code=str(ErrorCode.PROCESSOR_ERROR),
                retryable=ErrorCode.PROCESSOR_ERROR in RETRYABLE_CODES,
            )
        failed = PaymentStatus.UNRESOLVED if uncertain else PaymentStatus.FAILED
        return Result(status=str(failed), error=refusal, **common, **fields)

    if compiled.matches is not None:
        return _found(plan, compiled, body, context, common)
    status, connector_status, undecided = _status_of(compiled, body, context)
    if status is None:
        shown = repr(connector_status) if connector_status is not None else "no status"
        if undecided:
            code = ErrorCode.PROCESSOR_ERROR
            message = f"the processor answered {shown}: it does not know the outcome yet"
        else:
            code = ErrorCode.INVALID_RESPONSE
            message = f"the processor answered {shown}, which the spec does not map"
        return Result(
            status=str(PaymentStatus.UNRESOLVED),
            connector_status=connector_status,
            error=_unified_error(code, message, status_code),
            **common,
            **fields,
        )

    next_action = None
    if compiled.next_action is not None:
        extracts = dict(compiled.next_action)
        next_action = next_action_of(
            lambda name: extracts[name](body, context) if name in extracts else None
        )
    error: ErrorInfo | None = None
    if status == PaymentStatus.FAILED:
        error = _read_error(compiled.error, body, context, status_code, scrubber)
    return Result(
        status=str(status),
        connector_status=connector_status,
        next_action=next_action,
        error=error,
        **common,
        **fields,
    )


def _read_fields(
    plan: ConnectorPlan, compiled: ResponsePlan, body: Any, context: Mapping[str, Any]
) -> dict[str, Any]:
    """The flow's `fields` read from `body`, typed, normalised and grouped as the Result holds
    them (engine._result_fields): ids as text, the currency upper-cased (ISO 4217, whatever
    the processor's case), amounts in minor units, card details, checks and 3DS grouped."""
    read = {name: extract(body, context) for name, extract in compiled.fields}
    return shape(read, plan.parse_amount, context["request"].get("currency"))


def _found(
    plan: ConnectorPlan,
    compiled: ResponsePlan,
    body: Any,
    context: Mapping[str, Any],
    common: Mapping[str, Any],
) -> Result:
    """A list flow's answer: every item of `matches`, each read with the flow's `status` and
    `fields`. One match is `found`, several `ambiguous` (the caller chooses), none `not_found`.
    An answer without a list, or an item naming another reference than the one asked for, is
    not an answer to this lookup: `unresolved`."""
    assert compiled.matches is not None
    request = context["request"]
    wanted = _text(request.get("reference"))
    http_status = common["http_status"]
    items = compiled.matches(body, context)
    if not isinstance(items, list):
        what = "no list" if items is None else f"a {type(items).__name__}, not a list"
        return unresolved(
            plan,
            common["flow"],
            ErrorCode.INVALID_RESPONSE,
            f"the answer has {what} of payments where the spec's `matches` reads it",
            http_status=http_status,
            request=request,
        )
    matches = []
    for item in items:
        item_context = bind(compiled.bindings, {**context, "response": item})
        fields = _read_fields(plan, compiled, item, item_context)
        status, connector_status, _ = _status_of(compiled, item, item_context)
        reference = fields.get("reference")
        if wanted is not None and reference is not None and reference != wanted:
            return unresolved(
                plan,
                common["flow"],
                ErrorCode.INVALID_RESPONSE,
                f"the answer is not about this request: the request's reference is {wanted!r}, "
                f"a match's {reference!r}",
                http_status=http_status,
                request=request,
            )
        matches.append(
            Match(
                status=status or str(PaymentStatus.UNRESOLVED),
                connector_transaction_id=fields.get("connector_transaction_id"),
                connector_status=connector_status,
                reference=reference,
                amount=fields.get("amount"),
                currency=fields.get("currency"),
            )
        )
    one = matches[0] if len(matches) == 1 else None
    found = FindStatus.FOUND if one else FindStatus.AMBIGUOUS if matches else FindStatus.NOT_FOUND
    return Result(
        status=str(found),
        connector_transaction_id=one.connector_transaction_id if one else None,
        amount=one.amount if one else None,
        currency=one.currency if one else None,
        reference=wanted,
        matches=tuple(matches),
        **common,
    )


def with_step_ids(
    plan: ConnectorPlan,
    flow: str,
    result: Result,
    request: Mapping[str, Any],
    steps: Mapping[str, Any],
) -> Result:
    """An unresolved Result with the ids earlier steps' answers gave (a step's `response.fields`:
    the payment it created, its order), where the Result has none: what `get` needs to settle
    a payment whose last request was lost."""
    if result.status != PaymentStatus.UNRESOLVED or not steps:
        return result
    found: dict[str, Any] = {}
    for step in flow_plan(plan, flow).steps:
        answer = steps.get(step.name)
        if answer is None:
            continue
        context = {"request": request, "response": answer, "steps": steps}
        for name, extract in step.response.fields:
            if name in _ID_FIELDS and getattr(result, name) is None and name not in found:
                try:
                    value = _text(extract(answer, context))
                except Exception:  # an odd answer supplies nothing
                    value = None
                if value:
                    found[name] = value
    return replace(result, **found) if found else result
