"""cds-service: run the service, try a request or a Bundle, check and test rule files."""

from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from .auth import tools as auth_tools
from .auth.guard import AuthConfigError
from .auth.trust import TrustFileInvalid
from .config import Settings
from .protocol.outcomes import ClientError
from .protocol.yamlfile import RuleFileError
from .ruleset import schemas
from .ruleset.compiled import RuleSet, Service
from .ruleset.loader import RuleSetInvalid, load_rule_set
from .ruleset.schemas import HOOKS
from .store import commands as store_commands


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = Settings.from_env()
    if args.rules:
        settings = replace(settings, rules_dir=args.rules)
    try:
        code = int(args.run(args, settings))
        sys.stdout.flush()  # here, where a closed pipe can still be caught
        return code
    except RuleSetInvalid as error:
        print(f"error: the rule set is invalid: {_problems(error.problems)}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # The reader (`| head`) has gone: stop quietly, and keep Python's own flush at exit
        # from failing on the closed pipe.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, as a shell reports a command whose reader went away


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cds-service", description=__doc__)
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    parser.add_argument("--rules", type=Path, help="rules folder (default: the bundled rules/)")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the CDS Hooks service over HTTP")
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: %(default)s)"
    )
    serve.add_argument(
        "--port", type=int, default=8080, help="port, 0 for any free one (default: %(default)s)"
    )
    serve.add_argument(
        "--workers",
        type=_positive,
        default=1,
        help="worker processes, one per core is usual; connections are spread over them "
        "(default: %(default)s)",
    )
    serve.add_argument(
        "--log-level",
        default="info",
        choices=("debug", "info", "warning", "error"),
        help="the least important log lines shown (default: %(default)s)",
    )
    serve.add_argument(
        "--log-format",
        choices=("text", "json"),
        help="log lines as readable text or one JSON object each "
        "(default: $CDS_LOG_FORMAT, else text)",
    )
    serve.add_argument(
        "--graceful-timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="on SIGTERM, how long calls in flight may take to finish (default: %(default)s)",
    )
    serve.set_defaults(run=_serve)

    evaluate = commands.add_parser(
        "evaluate", help="run a CDS Hooks request, or a patient Bundle, and print the cards"
    )
    evaluate.add_argument("file", type=Path, help="a CDS Hooks request or a patient Bundle (JSON)")
    evaluate.add_argument(
        "--hook",
        choices=HOOKS,
        help="the hook, for a Bundle only (default: order-sign)",
    )
    evaluate.add_argument(
        "--order",
        action="append",
        default=[],
        metavar="DRUG",
        help="an RxNorm code or drug name to order, for a Bundle only (repeatable)",
    )
    evaluate.add_argument("--json", action="store_true", help="print the raw CDS Hooks response")
    evaluate.set_defaults(run=_evaluate)

    rules = commands.add_parser("rules", help="check and test rule files").add_subparsers(
        required=True, metavar="ACTION"
    )
    check = rules.add_parser("check", help="report every problem, with file, line and rule")
    test = rules.add_parser("test", help="check, then run the examples in every rule file")
    for command, run in ((check, _check), (test, _test)):
        command.add_argument("path", type=Path, nargs="?", help="rules folder")
        command.add_argument("--json", action="store_true", help="print the report as JSON")
        command.set_defaults(run=run)
    schema = rules.add_parser("schema", help="write the JSON Schemas editors validate with")
    schema.add_argument("--out", type=Path, help="folder (default: schema/ in the rules folder)")
    schema.set_defaults(run=_schema)

    store_commands.add(commands)

    replay = commands.add_parser(
        "replay", help="run saved requests through two rule sets and show what changes"
    )
    replay.add_argument("requests", type=Path, nargs="+", help="request files or folders")
    replay.add_argument("--rules", dest="new_rules", type=Path, required=True, help="new rules")
    replay.add_argument("--baseline", type=Path, help="old rules (default: the current rules)")
    replay.add_argument("--json", action="store_true", help="print the changes as JSON")
    replay.set_defaults(run=_replay)
    auth_tools.add_commands(commands)
    return parser


def _problems(problems: Sequence[RuleFileError]) -> str:
    count = len(problems)
    lines = [f"{count} problem{'s' if count != 1 else ''}"]
    for problem in problems:
        rule = f"rule {problem.rule}: " if problem.rule else ""
        lines.append(f"{_shown(problem.path)}:{problem.line or 1}: {rule}{problem.message}")
    return "\n".join(lines)


def _shown(path: Path) -> str:
    """A path as the author would type it: relative to the current folder where it can be."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _checked(args: argparse.Namespace, settings: Settings) -> RuleSet | None:
    """The rule set of ``rules check`` and ``rules test``, or None once its problems are shown."""
    directory = args.path or settings.rules_dir
    try:
        return load_rule_set(directory)
    except RuleSetInvalid as error:
        if args.json:
            print(json.dumps(_verdict(directory, error.problems)))
        else:
            print(_problems(error.problems))
        return None


def _check(args: argparse.Namespace, settings: Settings) -> int:
    rule_set = _checked(args, settings)
    if rule_set is None:
        return 1
    rule_set.close()
    if args.json:
        print(json.dumps(_verdict(rule_set.directory, [], rule_set)))
    else:
        print(
            f"{_shown(rule_set.directory)}: {len(rule_set.files)} rule files, "
            f"{len(rule_set.rules)} rules, no problems (rule set {rule_set.version})"
        )
    return 0


def _test(args: argparse.Namespace, settings: Settings) -> int:
    from .offline.examples import run_examples

    rule_set = _checked(args, settings)
    if rule_set is None:
        return 1
    try:
        results = run_examples(rule_set)
    finally:
        rule_set.close()
    failed = [r for r in results if not r.passed]
    if args.json:
        verdict = _verdict(rule_set.directory, [], rule_set)
        verdict["examples"] = {"run": len(results), "failed": len(failed)}
        verdict["failures"] = [
            {"file": str(r.file.path), "line": r.line, "example": r.name, "problems": r.problems}
            for r in failed
        ]
        print(json.dumps(verdict))
        return 1 if failed else 0
    for result in results:
        mark = "PASS" if result.passed else "FAIL"
        print(f"{mark}  {_shown(result.file.path)}:{result.line}  {result.name}")
        for problem in result.problems:
            print(f"      {problem}")
    print(
        f"{len(results)} examples: {len(results) - len(failed)} passed, {len(failed)} failed "
        f"(rule set {rule_set.version})"
    )
    return 1 if failed else 0


def _verdict(
    directory: Path, problems: Sequence[RuleFileError], rule_set: RuleSet | None = None
) -> dict[str, Any]:
    return {
        "rules": str(directory),
        "version": rule_set.version if rule_set else None,
        "valid": not problems,
        "problems": [
            {"file": str(p.path), "line": p.line, "rule": p.rule, "message": p.message}
            for p in problems
        ],
    }


def _schema(args: argparse.Namespace, settings: Settings) -> int:
    for path in schemas.write_schemas(args.out or settings.rules_dir / "schema"):
        print(f"wrote {_shown(path)}")
    return 0


def _replay(args: argparse.Namespace, settings: Settings) -> int:
    from .offline import replay

    try:
        requests = replay.load_requests(args.requests)
    except (OSError, ValueError) as error:
        print(f"error: cannot read a request: {error}", file=sys.stderr)
        return 1
    baseline = load_rule_set(args.baseline or settings.rules_dir)
    try:
        candidate = load_rule_set(args.new_rules)
    except RuleSetInvalid:
        baseline.close()
        raise
    try:
        outcomes = replay.replay(requests, baseline, candidate, settings.day())
    finally:
        baseline.close()
        candidate.close()
    if args.json:
        print(json.dumps(replay.as_json(outcomes), indent=2))
    else:
        print(replay.report(outcomes, baseline, candidate))
    return 0


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from functools import partial

    from .observability.workers import Listen, serve

    form = args.log_format or settings.log_format
    listen = Listen(args.host, args.port, args.log_level, form, args.graceful_timeout)
    return serve(partial(_app, settings), listen, args.workers)


def _app(settings: Settings) -> Any:
    """The app of one worker; a rule set it cannot serve ends the worker with the problems."""
    from .app import create_app

    try:
        return create_app(settings)
    except RuleSetInvalid as error:
        raise SystemExit(f"error: the rule set is invalid: {_problems(error.problems)}") from None
    except (AuthConfigError, TrustFileInvalid) as error:
        raise SystemExit(f"error: the service will not start: {error}") from None


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


def _evaluate(args: argparse.Namespace, settings: Settings) -> int:
    from . import service
    from .offline import bundles

    try:
        text = args.file.read_text(encoding="utf-8")
    except (OSError, ValueError) as error:
        print(f"error: cannot read {args.file}: {error}", file=sys.stderr)
        return 1
    try:
        document = json.loads(text)
    except ValueError as error:
        print(f"error: {args.file} is not JSON ({error})", file=sys.stderr)
        return 1
    if (problem := _not_evaluable(document, args)) is not None:
        print(f"error: {args.file} {problem}", file=sys.stderr)
        return 2
    rule_set = load_rule_set(settings.rules_dir)
    try:
        if document.get("resourceType") == "Bundle":
            chosen = _service_for(rule_set, args.hook or "order-sign")
            if chosen.hook != "patient-view" and not args.order:
                print("error: a Bundle needs --order DRUG for an order hook", file=sys.stderr)
                return 2
            document = bundles.request_from_bundle(document, chosen, args.order, rule_set.knowledge)
        request = service.parse_request(document)
        chosen = _service_for(rule_set, request.hook)
        response = service.call(chosen, request, rule_set, settings.day(), settings.zone()).wire()
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


def _not_evaluable(document: Any, args: argparse.Namespace) -> str | None:
    """Why ``document`` with these options cannot be evaluated, said before any rule loads."""
    if not isinstance(document, dict):
        return f"is a JSON {type(document).__name__}, not a CDS Hooks request or a FHIR Bundle"
    kind = document.get("resourceType")
    if kind == "Bundle":
        return None
    if kind is not None:
        return f"is a FHIR {kind}: give a CDS Hooks request, or a patient Bundle with --order"
    if "hook" not in document:
        return "is neither a CDS Hooks request (it has no 'hook') nor a FHIR Bundle"
    if args.hook or args.order:
        return "is a CDS Hooks request: --hook and --order are for a Bundle (the request has both)"
    return None


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("oncology-pgx-cds")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def _service_for(rule_set: RuleSet, hook: str) -> Service:
    chosen = rule_set.service_for(hook)
    if chosen is None:
        raise ClientError.of(400, "not-supported", f"no service for hook '{hook}'", "hook")
    return chosen


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
