"""Run a Mailchimp sandbox on its own: `python -m sync.sandbox.mailchimp [--port N] [--audience NAME]`.

Prints one JSON line (base_url, api_key, list_id) and serves until interrupted or stdin closes, so
another process (a benchmark, or you with `crm-sync push`) can talk to it over loopback.
"""

from __future__ import annotations

import argparse
import json
import sys

from sync.sandbox.mailchimp import MailchimpSandbox


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--audience", default="crm-sync sandbox audience")
    arguments = parser.parse_args()
    with MailchimpSandbox(port=arguments.port) as sandbox:
        list_id = sandbox.create_audience(arguments.audience)
        print(json.dumps({"base_url": sandbox.base_url, "api_key": sandbox.api_key, "list_id": list_id}), flush=True)
        try:
            sys.stdin.read()  # until the parent closes our stdin (or Ctrl-D)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
