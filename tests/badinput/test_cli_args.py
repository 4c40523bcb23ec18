"""Bad command lines: a usage error is exit 2 naming the option, an unknown audience exit 3 listing the configured
ones; nothing reaches a provider or changes the state store."""

from __future__ import annotations

import json

import pytest

from tests.badinput.harness import Case, param


def usage(name: str, args: tuple[str, ...], *expect: str) -> Case:
    return Case(name, args, code=2, expect=expect)


def _json_error(workspace, result) -> int:
    """The last stderr line is one JSON object carrying the message and the exit code."""
    line = json.loads(result.err.strip().splitlines()[-1])
    assert line["level"] == "ERROR" and line["exit_code"] == 3
    assert "no audience called 'nosuch'" in line["message"]
    return 0


CLI_CASES = [
    Case("unknown audience", ("push", "--audience", "nosuch"),
         expect=("error: no audience called 'nosuch'; configured: newsletter, nieuwsbrief",)),
    Case("unknown audience to run", ("run", "--audience", "Newsletter"),
         expect=("error: no audience called 'Newsletter'; configured: newsletter, nieuwsbrief",)),
    Case("unknown audience to plan", ("plan", "--audience", ""), expect=("error: no audience called ''",)),
    Case("unknown audience, JSON logs", ("--log-format", "json", "pull", "--audience", "nosuch"),
         still=_json_error),
    usage("audience without its value", ("push", "--audience"), "Error: Option '--audience' requires an argument."),
    usage("misspelt flag", ("push", "--frce"), "Error: No such option '--frce'. Did you mean '--force'?"),
    usage("unknown verb", ("pussh",), "Error: No such command 'pussh'."),
    usage("negative limit", ("plan", "--limit", "-1"),
          "Error: Invalid value for '--limit': -1 is not in the range x>=0."),
    usage("text limit", ("plan", "--limit", "all"), "Error: Invalid value for '--limit': 'all' is not a valid integer"),
    usage("impossible date", ("pull", "--since", "2023-02-30"),
          "Error: Invalid value for '--since': '2023-02-30' does not match the format '%Y-%m-%d'."),
    usage("word for a date", ("pull", "--since", "yesterday"), "Error: Invalid value for '--since': 'yesterday'"),
    usage("zero status limit", ("status", "--limit", "0"),
          "Error: Invalid value for '--limit': 0 is not in the range x>=1."),
    usage("unknown log format", ("--log-format", "xml", "push"),
          "Error: Invalid value for '--log-format': 'xml' is not one of 'text', 'json'."),
    usage("why without an address", ("why",), "Error: Missing argument 'EMAIL'."),
    usage("demo with an unknown provider", ("demo", "run", "--provider", "sendgrid"),
          "Error: Invalid value for '--provider': 'sendgrid' is not one of"),
    usage("extra argument", ("push", "newsletter"), "Error: Got unexpected extra argument (newsletter)"),
    usage("mapping without a verb", ("mapping", "chek"), "Error: No such command 'chek'."),
    Case("--config missing", ("--config", "$dir/sync.yml", "push"), expect=("error: $dir/sync.yml: file not found",)),
    Case("--secrets-file missing", ("--secrets-file", "$dir/.env", "push"),
         expect=("error: secrets file $dir/.env (CRM_SYNC_SECRETS_FILE) does not exist",)),
    Case("mapping check --mapping a folder", ("mapping", "check", "--mapping", "$dir/config"),
         expect=("error: $dir/config: cannot read it (Is a directory)",)),
]


@pytest.mark.parametrize("case", [param(case) for case in CLI_CASES])
def test_a_bad_command_line(pushed, case):
    pushed.run("cli args", case)
