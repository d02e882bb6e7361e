"""The container's entry point. SageMaker runs the image with `train` (training jobs) or `serve` (endpoints);
the pipeline's evaluation step runs it with `evaluate` (a processing job)."""

from __future__ import annotations

import sys

COMMANDS = ("train", "serve", "evaluate")


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in COMMANDS:
        print(f"usage: python -m model {{{'|'.join(COMMANDS)}}} [options]", file=sys.stderr)
        return 2
    command, rest = argv[0], argv[1:]
    if command == "train":
        from model.train import main as run
    elif command == "evaluate":
        from model.evaluate import main as run
    else:
        from model.serve import main as run
    return run(rest)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
