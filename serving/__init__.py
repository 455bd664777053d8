"""The model server: the SageMaker inference container contract, fast.

`GET /ping`, `POST /invocations` with `text/csv`; one process per worker, each loading the
model through the safe artifact loader and predicting with native code compiled from it.
"""
