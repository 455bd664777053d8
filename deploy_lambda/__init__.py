"""The deploy Lambda: approval events in, an autoscaled endpoint out (boto3 only)."""
