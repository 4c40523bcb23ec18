"""Run a Spotler Mail+ sandbox on its own:
``python -m sync.sandbox.spotler [--port N] [--key K --secret S] [--demo-properties] [--clock-behind S]``.

Prints one JSON line (``base_url``, ``consumer_key``, ``consumer_secret``) and serves until interrupted (Ctrl-C
or SIGTERM), so another process can talk to it over loopback. Until stdin closes it also takes the Mailchimp
sandbox's ``{"engage": {...}}`` command lines (``sync/sandbox/engagement.py``) for permission bit 1.
"""

from __future__ import annotations

import argparse
import json
import signal
import threading

from sync.connectors.spotler.demo import DEMO_SPOTLER_PROPERTIES
from sync.sandbox.engagement import serve_commands
from sync.sandbox.spotler import SpotlerSandbox
from sync.sandbox.views import SpotlerView


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--key", help="consumer key (random when not given)")
    parser.add_argument("--secret", help="consumer secret (random when not given)")
    parser.add_argument("--public-base-url", help="the URL clients sign when a proxy (Prism) is in front")
    parser.add_argument("--demo-properties", action="store_true",
                        help="give the account the custom properties config/mapping.yaml names")
    parser.add_argument("--clock-behind", type=float, default=0.0,
                        help="stamp changes this many seconds early, so a pull with a shorter feed lag sees them")
    arguments = parser.parse_args()
    stopped = threading.Event()

    def stop(*_: object) -> None:
        if not stopped.is_set():  # a second signal while shutting down is not another interrupt
            stopped.set()
            raise KeyboardInterrupt  # also ends a blocking read of stdin

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        with SpotlerSandbox(arguments.key, arguments.secret, port=arguments.port, host=arguments.host,
                            public_base_url=arguments.public_base_url,
                            properties=DEMO_SPOTLER_PROPERTIES if arguments.demo_properties else None) as sandbox:
            try:
                print(json.dumps({"base_url": sandbox.base_url, "consumer_key": sandbox.consumer_key,
                                  "consumer_secret": sandbox.consumer_secret}), flush=True)
                sandbox.run_clock_behind(arguments.clock_behind)
                serve_commands(SpotlerView(sandbox))
                while not stopped.wait(0.5):
                    pass
            except KeyboardInterrupt:  # a signal at any point of serving ends it cleanly
                pass
    except KeyboardInterrupt:  # a signal while the sandbox was starting
        pass

if __name__ == "__main__":
    main()
