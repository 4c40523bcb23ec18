"""Run a Mailchimp sandbox on its own: `python -m sync.sandbox.mailchimp [--port N] [--audience NAME]`.

Prints one JSON line (base_url, api_key, list_id) and serves until interrupted or stdin closes, so
another process (a benchmark, or you with `crm-sync push`) can talk to it over loopback.

While it serves, it also takes commands on stdin, one JSON object a line, and answers each with one JSON line
(``{"error": "..."}`` when the command is wrong):

    {"engage": {"start": "2026-01-05T09:00:00+00:00", "campaigns": 4, "opens": 3, "clicks": 1,
                "bounce_every": 1000, "unsubscribe_every": 1000, "seed": 1}}

sends campaigns to the audience's subscribers and records their engagement deterministically (see
``sync/sandbox/engagement.py``; every field but ``start`` is optional, ``"list_id"`` picks another audience) and
answers with the campaign ids and the events a pull should find, by action.
"""

from __future__ import annotations

import argparse
import json

from sync.sandbox.engagement import serve_commands
from sync.sandbox.mailchimp import MailchimpSandbox
from sync.sandbox.mailchimp.sandbox import MAX_CONNECTIONS
from sync.sandbox.mailchimp.server import Latency
from sync.sandbox.views import MailchimpView


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--audience", default="crm-sync sandbox audience")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="time each answer takes (default 0)")
    parser.add_argument("--per-member-ms", type=float, default=0.0,
                        help="extra time per member a request carries (default 0)")
    parser.add_argument("--max-connections", type=int, default=MAX_CONNECTIONS)
    arguments = parser.parse_args()
    latency = Latency(arguments.latency_ms / 1000, arguments.per_member_ms / 1000)
    with MailchimpSandbox(port=arguments.port, latency=latency, max_connections=arguments.max_connections) as sandbox:
        list_id = sandbox.create_audience(arguments.audience)
        print(json.dumps({"base_url": sandbox.base_url, "api_key": sandbox.api_key, "list_id": list_id}), flush=True)
        serve_commands(MailchimpView(sandbox, list_id))  # until the parent closes our stdin (or Ctrl-D)


if __name__ == "__main__":
    main()
