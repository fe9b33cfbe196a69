"""``python -m celm.train CONFIG.yaml [KEY=VALUE ...]``: the entry point for ``accelerate launch``.

    accelerate launch --config_file "$(celm train launch-config deepspeed_zero2)" -m celm.train run.yaml
"""

from __future__ import annotations

import sys

from celm.train.config import load_config
from celm.train.recipes import train


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return
    result = train(load_config(argv[0], assignments=argv[1:]))
    print(f"adapter: {result.adapter_dir}")


if __name__ == "__main__":
    main()
