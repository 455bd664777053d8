"""`python -m serving.container serve`: the image's ENTRYPOINT (SageMaker appends `serve`)."""

import sys

from serving.container.entrypoint import main

sys.exit(main())
