"""The emulator's Inference Recommender, split as moto splits a service: `jobs` holds the
jobs' state and answers the API; `measurement` load-tests the model on this machine and
projects the figures to other instance types."""
