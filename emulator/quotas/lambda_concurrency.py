"""Lambda's reserved-concurrency rule, put into moto's Lambda backend (which CloudFormation
also uses), so a template reserving what a default-quota account cannot give fails as on AWS."""

from __future__ import annotations

from typing import Any

from moto.awslambda.exceptions import InvalidParameterValueException
from moto.awslambda.models import LambdaBackend

from emulator.quotas.catalog import AccountQuotas
from emulator.quotas.limits import reservation_refusal

_original_create = LambdaBackend.create_function
_original_put = LambdaBackend.put_function_concurrency


def _reserved_elsewhere(backend: LambdaBackend, function_name: str) -> int:
    return sum(
        int(fn.reserved_concurrency)
        for fn in backend.list_functions()
        if fn.reserved_concurrency and fn.function_name != function_name
    )


def _check(quotas: AccountQuotas, backend: LambdaBackend, function_name: str, requested: Any) -> None:
    if requested is None:
        return
    refusal = reservation_refusal(quotas, int(requested), _reserved_elsewhere(backend, function_name))
    if refusal:
        raise InvalidParameterValueException(refusal)


def apply(quotas: AccountQuotas) -> None:
    def create_function(self: LambdaBackend, spec: dict[str, Any]) -> Any:
        _check(quotas, self, spec.get("FunctionName", ""), spec.get("ReservedConcurrentExecutions"))
        return _original_create(self, spec)

    def put_function_concurrency(self: LambdaBackend, function_name: str, reserved_concurrency: str) -> str:
        name = self.get_function(function_name).function_name
        _check(quotas, self, name, reserved_concurrency)
        return _original_put(self, function_name, reserved_concurrency)

    LambdaBackend.create_function = create_function
    LambdaBackend.put_function_concurrency = put_function_concurrency
