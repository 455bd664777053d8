"""`rtb-mlops loadtest`: load an endpoint with Locust along a profile derived from its plan,
follow its CloudWatch metrics and instance counts, and judge whether the fleet scaled in time
and held the latency SLA. The Locust side runs in its own process (gevent patches the
interpreter it runs in); this side reads AWS with boto3."""

from pathlib import Path


def locustfile_path() -> Path:
    """The locustfile, for `locust -f` here and on a distributed run's master and workers."""
    return Path(__file__).with_name("locustfile.py")
