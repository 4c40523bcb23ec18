"""Run the fake vtiger on its own: ``python -m sync.sandbox.vtiger [--port N] [--user U --key K]``.

Prints one JSON line (``base_url``, ``api_user``, ``api_key``) and serves until interrupted (Ctrl-C or SIGTERM).
"""

from __future__ import annotations

import argparse
import json
import signal
import threading

from sync.sandbox.vtiger import VtigerSandbox


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--user", default="admin")
    parser.add_argument("--key", default="fake-access-key")
    arguments = parser.parse_args()
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    with VtigerSandbox(arguments.user, arguments.key, port=arguments.port, host=arguments.host) as sandbox:
        print(json.dumps({"base_url": sandbox.base_url, "api_user": sandbox.username, "api_key": sandbox.access_key}),
              flush=True)
        try:
            while not stopped.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
