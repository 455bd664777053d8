"""Model packages in the SageMaker Model Registry, the contract between this project's
packages, and checks of the artifacts put in the registry.

The modules at this level need boto3 and the standard library only, and ship with the step
scripts and the deploy Lambda (`pipelines.code_bundle`): the registry operations (`packages`,
`lineage`, `aws`), and the contract every other package reads rather than restating it —
`contract` (the metadata keys and the recommendation), `names` (resource names, the package
tag, event types), `endpoints` (which package a model serves), `deploy_bounds`,
`instance_types` and `errors` (the UserError base). The exception is `example_model`, which
trains the example bid filter with xgboost, pandas and scikit-learn for the `example-model`
command and is not shipped. `model_registry.artifact` needs xgboost and is imported where
artifacts are read; `model_registry.audit` is the CLI's.
"""
