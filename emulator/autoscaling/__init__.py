"""Application Auto Scaling for SageMaker variants: the target-tracking alarms a policy
creates (`responses`), and the policy acting on them (`models`). moto keeps the scalable
targets and policies."""
