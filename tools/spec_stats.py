"""Measure the bundled specs against the spec-format targets: lines in all (and without comments
and blank lines), guard expressions repeated within a spec, and error tables duplicated across
specs. Usage: python tools/spec_stats.py [--json] [--baseline N] [SPEC...]

A guard is the condition of an inline `… if <condition>` in a template, a `$if` or a status
rule's `if`; "repeated" means the same condition text three or more times in one spec. A
duplicated table is a set of (processor code → unified code) pairs, five or more, that two specs
both write out instead of naming a shared table.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs" / "connectors"
#: Flows added to the bundled specs after issue 9 was filed: not in its "same flows" count.
LATER_FLOWS = ("find",)

#: `wc -l` of the 11 specs when issue 9 was filed, and their ids (the target is measured on them).
BASELINE_LINES = 5371
BASELINE_SPECS = frozenset(
    {
        *("adyen", "authorize_net", "braintree", "checkout_com", "cybersource", "mollie"),
        *("paypal", "razorpay", "square", "stripe", "worldpay"),
    }
)

_INLINE_IF = re.compile(r"\bif\s+(.+?)\s*(?:\belse\b|\}\}|$)", re.S)


def _strings(node: yaml.Node) -> list[tuple[str, str]]:
    """(key, text) of every string as written (an alias's target counted once)."""
    out: list[tuple[str, str]] = []
    seen: set[int] = set()
    stack: list[tuple[str, yaml.Node]] = [("", node)]
    while stack:
        key, item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, yaml.MappingNode):
            stack.extend((str(k.value), v) for k, v in item.value)
        elif isinstance(item, yaml.SequenceNode):
            stack.extend((key, v) for v in item.value)
        elif isinstance(item, yaml.ScalarNode):
            out.append((key, str(item.value)))
    return out


def _let_names(data: Any) -> set[str]:
    names: set[str] = set()
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if isinstance(item.get("let"), dict):
                names.update(item["let"])
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return names


def guards(node: yaml.Node, named: frozenset[str] | set[str] = frozenset()) -> Counter[str]:
    """Guard conditions as written; a bare `let` name (or its negation) is not counted: the
    condition it names is written once."""
    found: Counter[str] = Counter()
    for key, text in _strings(node):
        conditions = []
        if key in ("$if", "if"):
            conditions.append(text)
        elif "{{" in text:
            conditions += [match.group(1) for match in _INLINE_IF.finditer(text)]
        for condition in conditions:
            words = condition.split()
            if words and words[-1] in named and words[:-1] in ([], ["not"]):
                continue
            found[" ".join(words)] += 1
    return found


def error_pairs(data: Any) -> set[tuple[str, str]]:
    pairs: set[tuple[str, str]] = set()
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            error = item.get("error")
            if isinstance(error, dict) and isinstance(error.get("map"), dict):
                for code, target in error["map"].items():
                    if isinstance(target, str):
                        pairs.add((str(code), target))
                    elif isinstance(target, list):
                        pairs.update((str(c), str(code)) for c in target)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    if isinstance(data, dict):
        for table in (data.get("tables") or {}).values():
            for code, target in table.items():
                if isinstance(target, list):
                    pairs.update((str(c), str(code)) for c in target)
                elif isinstance(target, str):
                    pairs.add((str(code), target))
    return pairs


def later_flow_lines(lines: list[str]) -> int:
    """Lines of the flows in LATER_FLOWS (a flow block: its `  name:` line to the next one)."""
    count, inside = 0, False
    for line in lines:
        if line.startswith("  ") and not line.startswith("   ") and line.rstrip().endswith(":"):
            inside = line.strip()[:-1] in LATER_FLOWS
        elif line and not line.startswith(" ") and not line.startswith("#"):
            inside = False
        count += inside
    return count


def measure(paths: list[Path]) -> dict[str, Any]:
    specs: dict[str, Any] = {}
    pairs: dict[str, set[tuple[str, str]]] = {}
    for path in paths:
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        code = [line for line in lines if line.strip() and not line.strip().startswith("#")]
        data = yaml.safe_load(text)
        named = _let_names(data)
        repeated = {g: n for g, n in guards(yaml.compose(text), named).items() if n >= 3}
        pairs[path.stem] = error_pairs(data)
        specs[path.stem] = {
            "lines": len(lines),
            "later_flow_lines": later_flow_lines(lines),
            "code_lines": len(code),
            "repeated_guards": repeated,
        }
    duplicated = []
    names = sorted(pairs)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            common = pairs[a] & pairs[b]
            if len(common) >= 5:
                duplicated.append({"specs": [a, b], "pairs": len(common)})
    total = sum(s["lines"] for name, s in specs.items() if name in BASELINE_SPECS)
    later = sum(s["later_flow_lines"] for name, s in specs.items() if name in BASELINE_SPECS)
    return {
        "same_flows_lines": total - later,
        "same_flows_change": round((total - later) / BASELINE_LINES - 1, 3),
        "specs": specs,
        "lines": total,
        "code_lines": sum(s["code_lines"] for k, s in specs.items() if k in BASELINE_SPECS),
        "all_lines": sum(s["lines"] for s in specs.values()),
        "baseline_lines": BASELINE_LINES,
        "change": round(total / BASELINE_LINES - 1, 3),
        "specs_with_repeated_guards": sorted(k for k, s in specs.items() if s["repeated_guards"]),
        "duplicated_tables": duplicated,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("specs", nargs="*", type=Path, help="spec files (default: the bundled)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    paths = args.specs or sorted(SPECS.glob("*.yaml"))
    report = measure(paths)
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    for name, spec in report["specs"].items():
        worst = max(spec["repeated_guards"].values(), default=0)
        print(
            f"{name:16} {spec['lines']:5} lines {spec['code_lines']:5} without comments"
            f"  guards repeated 3+: {len(spec['repeated_guards'])} (most {worst}x)"
        )
    print(
        f"{'the 11 of #9':16} {report['lines']:5} lines {report['code_lines']:5} without comments"
        f"  ({report['change']:+.1%} against {report['baseline_lines']});"
        f" all specs: {report['all_lines']}"
    )
    print(
        f"{'same flows':16} {report['same_flows_lines']:5} lines (without {', '.join(LATER_FLOWS)},"
        f" added since: {report['same_flows_change']:+.1%})"
    )
    for dup in report["duplicated_tables"]:
        print(f"duplicated error pairs: {' & '.join(dup['specs'])}: {dup['pairs']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
