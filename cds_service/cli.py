"""``cds-service``: run the service, or run a request or a patient Bundle through the rules."""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .config import Settings
from .errors import ClientError
from .rulesets import HOOKS, RuleSet, Service, load_rule_set
from .yamlfile import RuleFileError


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = Settings.from_env()
    if args.rules:
        settings = Settings(rules_dir=args.rules, max_body_bytes=settings.max_body_bytes)
    try:
        return int(args.run(args, settings))
    except RuleFileError as error:
        print(f"error: the rule set is invalid, not starting: {error}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cds-service", description=__doc__)
    parser.add_argument("--rules", type=Path, help="rules folder (default: the bundled rules/)")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the CDS Hooks service over HTTP")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--log-level", default="info")
    serve.set_defaults(run=_serve)

    evaluate = commands.add_parser(
        "evaluate", help="run a CDS Hooks request, or a patient Bundle, and print the cards"
    )
    evaluate.add_argument("file", type=Path, help="a CDS Hooks request or a patient Bundle (JSON)")
    evaluate.add_argument(
        "--hook",
        choices=HOOKS,
        default="order-sign",
        help="the hook, for a Bundle (default: order-sign)",
    )
    evaluate.add_argument(
        "--order",
        action="append",
        default=[],
        metavar="DRUG",
        help="an RxNorm code or drug name to order, for a Bundle (repeatable)",
    )
    evaluate.add_argument("--json", action="store_true", help="print the raw CDS Hooks response")
    evaluate.set_defaults(run=_evaluate)
    return parser


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from .app import create_app

    app = create_app(settings)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)
    return 0


def _evaluate(args: argparse.Namespace, settings: Settings) -> int:
    from . import bundles, service

    try:
        document = json.loads(args.file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        print(f"error: cannot read {args.file}: {error}", file=sys.stderr)
        return 1
    rule_set = load_rule_set(settings.rules_dir)
    try:
        if isinstance(document, dict) and document.get("resourceType") == "Bundle":
            chosen = _service_for(rule_set, args.hook)
            if chosen.hook != "patient-view" and not args.order:
                print("error: a Bundle needs --order DRUG for an order hook", file=sys.stderr)
                return 2
            document = bundles.request_from_bundle(document, chosen, args.order, rule_set.knowledge)
        request = service.parse_request(document)
        chosen = _service_for(rule_set, request.hook)
        response = service.call(chosen, request, rule_set, datetime.now(UTC).date()).wire()
    except ClientError as error:
        print(
            json.dumps(error.outcome(), indent=2) if args.json else f"error: {error}",
            file=sys.stderr,
        )
        return 1
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    finally:
        rule_set.close()
    print(json.dumps(response, indent=2) if args.json else _readable(response, chosen.id))
    return 0


def _service_for(rule_set: RuleSet, hook: str) -> Service:
    """The service in rules/services.yaml that serves ``hook``."""
    for candidate in rule_set.services.values():
        if candidate.hook == hook:
            return candidate
    raise ClientError.of(400, "not-supported", f"no service for hook '{hook}'", "hook")


def _readable(response: dict[str, Any], service_id: str) -> str:
    cards = response["cards"]
    lines = [f"{service_id}: {len(cards)} card{'s' if len(cards) != 1 else ''}"]
    for card in cards:
        lines += ["", f"[{card['indicator'].upper()}] {card['summary']}"]
        lines.append(f"  source: {card['source']['label']}")
        lines.append(f"  rule:   {card['source']['topic']['code']}   uuid: {card['uuid']}")
        lines += [textwrap.indent(card.get("detail", ""), "  | ", lambda _: True)]
        for suggestion in card.get("suggestions", []):
            mark = " (recommended)" if suggestion.get("isRecommended") else ""
            lines.append(f"  suggestion{mark}: {suggestion['label']}")
            for action in suggestion.get("actions", []):
                lines.append(f"    - {action['type']}: {action['description']}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
