"""``python -m fastgmm``: the same as the ``fastgmm`` console script."""

from fastgmm.cli import main

raise SystemExit(main())
