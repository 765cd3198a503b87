"""``sinapsi train`` with one rank made to fail, for the tests under ``mpirun``:
``python cli_ranks.py WHEN CONFIG OUT``; WHEN is ``prepare`` (rank 1's data preparation
raises), ``step`` (rank 1's forward raises at its 4th call, in the first epoch) or ``epoch``
(a callback raises at the end of rank 1's first epoch, which rank 0 cannot know). Exits with
the status ``sinapsi.cli.main`` returns."""

from __future__ import annotations

import sys
from typing import Any

from dp_cases import FailsOnRank

import sinapsi.experiment as experiment
from sinapsi import cli, distributed, nn
from sinapsi.train import Callback


def main(when: str, config: str, out: str) -> int:
    if when == "prepare":
        prepare = experiment.prepare_run

        def failing_prepare(*args: Any, **kwargs: Any) -> Any:
            if distributed.world().rank == 1:
                raise OSError("cannot read the data on this node")
            return prepare(*args, **kwargs)

        experiment.prepare_run = failing_prepare
    elif when == "epoch":  # an epoch-end hook that fails on rank 1 only: no rank knows
        prepare = experiment.prepare_run

        class Fails(Callback):
            def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
                if distributed.world().rank == 1:
                    raise RuntimeError("the epoch's hook failed on this rank")

        def prepare_with_hook(*args: Any, **kwargs: Any) -> Any:
            prep = prepare(*args, **kwargs)
            prep.fit_kwargs["callbacks"].append(Fails())
            return prep

        experiment.prepare_run = prepare_with_hook
    else:
        build = experiment.build_mlp

        def failing_build(*args: Any, **kwargs: Any) -> Any:
            return nn.Sequential(FailsOnRank(1, 4), *build(*args, **kwargs))

        experiment.build_mlp = failing_build
    return cli.main(["train", config, "--out", out])


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
