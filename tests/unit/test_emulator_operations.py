"""The emulator finds each operation it answers by the name marked at its handler."""

from emulator.endpoints import Endpoints
from emulator.pipeline_engine import PipelineEngine
from emulator.protocol import Operations, operation
from emulator.recommender.jobs import Recommender


def test_each_service_registers_the_operations_marked_for_it():
    class Service:
        @operation("SageMaker.DescribeThing")
        def describe(self, params):
            return {"Thing": params["Name"]}

        @operation("SageMakerRuntime.InvokeThing")
        def invoke(self, name, body, content_type):
            return 200, {}, body

        def unmarked(self, params):
            return {}

    sagemaker, runtime = Operations("SageMaker"), Operations("SageMakerRuntime")
    for ops in (sagemaker, runtime):
        ops.register(Service())
    assert sagemaker.find("SageMaker.DescribeThing")({"Name": "t"}) == {"Thing": "t"}
    assert set(sagemaker.handlers) == {"DescribeThing"}
    assert set(runtime.handlers) == {"InvokeThing"}
    assert sagemaker.find("SageMakerRuntime.InvokeThing") is None


def test_the_emulator_answers_the_operations_it_did_before():
    sagemaker, runtime = Operations("SageMaker"), Operations("SageMakerRuntime")
    for implementation in (Endpoints(None, None, None, None), Recommender(None), PipelineEngine(None, None)):
        sagemaker.register(implementation)
        runtime.register(implementation)
    assert set(sagemaker.handlers) == {
        "CreateEndpoint",
        "UpdateEndpoint",
        "DeleteEndpoint",
        "CreateInferenceRecommendationsJob",
        "DescribeInferenceRecommendationsJob",
        "ListInferenceRecommendationsJobSteps",
        "StopInferenceRecommendationsJob",
        "GetScalingConfigurationRecommendation",
        "StartPipelineExecution",
        "DescribePipelineExecution",
        "ListPipelineExecutionSteps",
        "ListPipelineExecutions",
        "ListPipelineParametersForExecution",
        "StopPipelineExecution",
    }
    assert set(runtime.handlers) == {"InvokeEndpoint"}
