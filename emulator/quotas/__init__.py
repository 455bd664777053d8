"""Account quotas as AWS holds them (Service Quotas), with AWS's defaults and configurable:
Lambda's concurrent executions (and the unreserved minimum that reserved concurrency may not
take away), SageMaker instances per type for endpoint usage, and instances across active
endpoints. Exceeding one answers as AWS does; GetServiceQuota/ListServiceQuotas give the
same numbers, so code can check before it acts.

RTB_EMULATOR_QUOTAS: unset for the defaults, `off` to debug without quotas, or a JSON object
of quota name to value (an account with raised quotas).
"""

from emulator.quotas.catalog import QUOTAS_FLAG, AccountQuotas, Quota

__all__ = ["QUOTAS_FLAG", "AccountQuotas", "Quota"]
