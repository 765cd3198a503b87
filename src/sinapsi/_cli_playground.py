"""``sinapsi playground``: serve the TensorFlow Playground rebuilt on sinapsi, in the browser.

A local web app (FastAPI on uvicorn, :mod:`sinapsi.playground`) bound to 127.0.0.1 unless
``--host`` says otherwise (then a warning: it has no login). It needs the extra:
``pip install 'sinapsi[playground]'``; without it the command says so in one line.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .config import ConfigError

DEFAULT_PORT = 8765
_LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
_EXTRA_MODULES = ("fastapi", "uvicorn", "starlette", "anyio")


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be a port number in 0..65535, got {text!r}")
    return value


def add_playground(sub: Any) -> None:
    """Declare ``sinapsi playground`` and its options."""
    p = sub.add_parser(
        "playground",
        help="train small networks live in the browser (the TensorFlow Playground)",
        description="Serve the TensorFlow Playground rebuilt on sinapsi: pick a data set, "
        "features and layers, watch the network learn, and export the run as a TOML file that "
        "'sinapsi train' reproduces to the same numbers. Serves on 127.0.0.1 (this machine "
        "only) and opens the browser. Ctrl-C stops it. Needs: pip install 'sinapsi[playground]'",
    )
    p.add_argument(
        "--port",
        type=_port,
        default=DEFAULT_PORT,
        metavar="N",
        help=f"the port to serve on; 0 picks a free one (default: {DEFAULT_PORT})",
    )
    p.add_argument(
        "--host",
        default="127.0.0.1",
        metavar="H",
        help="the address to bind (default: 127.0.0.1, this machine only; another address "
        "lets other machines in, with no login)",
    )
    p.add_argument("--no-browser", action="store_true", help="do not open a browser")
    p.set_defaults(handler=_playground)


def _playground(args: argparse.Namespace) -> int:
    try:
        from .playground.app import PortInUse, serve
    except ModuleNotFoundError as e:
        if (e.name or "").split(".")[0] not in _EXTRA_MODULES:
            raise
        raise ConfigError(
            f"the playground needs {e.name}, which is not installed: "
            "pip install 'sinapsi[playground]'"
        ) from None
    if args.host not in _LOCAL_HOSTS:
        print(
            f"sinapsi: warning: --host {args.host} lets other machines reach the playground, "
            "which has no login; use --host 127.0.0.1 to keep it on this machine.",
            file=sys.stderr,
        )
    try:
        serve(args.host, args.port, open_browser=not args.no_browser)
    except PortInUse as e:
        raise ConfigError(
            f"{e.strerror}: choose another with --port N (--port 0 picks a free one)."
        ) from None
    except OSError as e:  # e.g. an address this machine does not have
        raise ConfigError(
            f"cannot serve on {args.host}:{args.port}: {e.strerror or e}. Check --host and --port."
        ) from None
    except KeyboardInterrupt:
        pass
    print("sinapsi playground: stopped")
    return 0
