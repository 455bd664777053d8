"""Model packages in the SageMaker Model Registry, and checks of the artifacts put there.

The modules at this level need boto3 only (they ship with the step scripts and the deploy
Lambda); `model_registry.artifact` needs xgboost and is imported where artifacts are read.
"""
