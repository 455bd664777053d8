"""CodePipeline in the emulator: executions that run their stages and actions.

moto keeps the declarations; `responses` checks them on CreatePipeline/UpdatePipeline and
answers the execution operations, `engine` runs executions (stage locks by execution mode),
`actions` the providers (S3 source, CodeBuild, manual approval), `models` the records and their
API shapes, `cloudformation` makes AWS::CodePipeline::Pipeline.
"""
