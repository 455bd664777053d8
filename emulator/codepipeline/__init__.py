"""CodePipeline in the emulator: executions that run their stages and actions.

moto keeps the declarations; `responses` checks them on CreatePipeline/UpdatePipeline and
answers the execution operations, `engine` runs executions (stage locks by execution mode),
`actions` the providers (S3 source, CodeBuild, manual approval), `models` the records and their
API shapes, `cloudformation` makes AWS::CodePipeline::Pipeline.

Driving it is driving CodePipeline: deploy a template with AWS::CodePipeline::Pipeline and
AWS::CodeBuild::Project (or call CreateProject/CreatePipeline), then StartPipelineExecution
(`variables` for a V2 pipeline; an EventBridge rule targeting the pipeline, or a Lambda, may
start it too), follow it with GetPipelineExecution / GetPipelineState / ListActionExecutions
(a CodeBuild action's externalExecutionId is the build id: BatchGetBuilds, and its log in
CloudWatch Logs `/aws/codebuild/PROJECT`), and answer a manual approval with PutApprovalResult
and the token GetPipelineState shows. Creating a pipeline starts a first execution, as on AWS.
Settings: RTB_EMULATOR_CODEBUILD_CONCURRENCY (builds running at once, default 2),
RTB_MLOPS_EMULATOR_TIME_SCALE (the approval's 7-day expiry is on the emulator's clock).
"""
