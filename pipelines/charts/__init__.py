"""Charts drawn with matplotlib on the client side (the CLI, the local flow, the benchmarks),
never inside a pipeline step: the steps run with boto3 and the standard library only."""
