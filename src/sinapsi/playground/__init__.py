"""``sinapsi playground``: the TensorFlow Playground rebuilt on the real library, a local web
app (FastAPI on uvicorn, bound to 127.0.0.1) whose training is the same ``fit()`` as
``sinapsi train``'s, so an exported configuration reproduces the numbers it shows.

FastAPI and uvicorn come with the extra: ``pip install 'sinapsi[playground]'``. They are
imported only when the app is built, so ``import sinapsi.playground`` works without them.
"""

from __future__ import annotations

from typing import Any

__all__ = ["create_app", "serve", "Session"]


def __getattr__(name: str) -> Any:
    if name in ("create_app", "serve"):
        from . import app

        return getattr(app, name)
    if name == "Session":
        from .session import Session

        return Session
    raise AttributeError(f"module 'sinapsi.playground' has no attribute {name!r}")
