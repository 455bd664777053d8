"""Tracing an endpoint back to its artifact, its evidence and its approval (boto3 only)."""
