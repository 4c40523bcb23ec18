"""Run a fake EspoCRM on its own: `python -m sync.sandbox.espocrm [--port N]`.

Prints one JSON line (base_url, api_key, hmac_key, hmac_secret) and serves until stdin closes or Ctrl-C, so
another process (``crm-sync`` with ``crm.kind: espocrm``, a benchmark) can talk to it over loopback.
"""

from __future__ import annotations

import argparse
import json
import sys

from sync.sandbox.espocrm import EspoSandbox


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    arguments = parser.parse_args()
    with EspoSandbox(port=arguments.port) as sandbox:
        print(json.dumps({"base_url": sandbox.base_url, "api_key": sandbox.api_key, "hmac_key": sandbox.hmac_key,
                          "hmac_secret": sandbox.hmac_secret}), flush=True)
        try:
            for _ in sys.stdin:
                pass
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
