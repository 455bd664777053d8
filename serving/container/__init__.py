"""The model server as a SageMaker inference image: `Dockerfile` beside this file, built from the
repository root (see `.dockerignore` there), and the entrypoint that maps SageMaker's container
contract onto `serving.cli` (`entrypoint.py`, run as `python -m serving.container serve`).
"""
