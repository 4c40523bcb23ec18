"""Run a Spotler Mail+ sandbox on its own:
``python -m sync.sandbox.spotler [--port N] [--key K --secret S] [--demo-properties]``.

Prints one JSON line (``base_url``, ``consumer_key``, ``consumer_secret``) and serves until interrupted (Ctrl-C
or SIGTERM), so another process can talk to it over loopback.
"""

from __future__ import annotations

import argparse
import json
import signal
import threading

from sync.demo_providers import DEMO_SPOTLER_PROPERTIES
from sync.sandbox.spotler import SpotlerSandbox


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--key", help="consumer key (random when not given)")
    parser.add_argument("--secret", help="consumer secret (random when not given)")
    parser.add_argument("--public-base-url", help="the URL clients sign when a proxy (Prism) is in front")
    parser.add_argument("--demo-properties", action="store_true",
                        help="give the account the custom properties config/mapping.yaml names")
    arguments = parser.parse_args()
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    with SpotlerSandbox(arguments.key, arguments.secret, port=arguments.port, host=arguments.host,
                        public_base_url=arguments.public_base_url,
                        properties=DEMO_SPOTLER_PROPERTIES if arguments.demo_properties else None) as sandbox:
        print(json.dumps({"base_url": sandbox.base_url, "consumer_key": sandbox.consumer_key,
                          "consumer_secret": sandbox.consumer_secret}), flush=True)
        try:
            while not stopped.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
