"""`python -m serving --model-artifact PATH [--port P] [--workers N] [--predictor KIND]`."""

import sys

from pipelines.commands.serve import main

sys.exit(main())
