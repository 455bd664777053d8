"""`python -m serving --model-artifact PATH [--port P] [--workers N] [--predictor KIND]`."""

import sys

from serving.cli import main

sys.exit(main())
