"""`iam:SimulatePrincipalPolicy`, which moto does not implement: the named role's or user's
identity policies evaluated for each action on each resource by the emulator's own evaluator
(the one that enforces requests), so a simulation answers as enforcement would.

Query protocol in, XML out, shaped as the IAM API reference's SimulatePrincipalPolicy example
(EvaluationResults members with EvalActionName, EvalResourceName, EvalDecision).
"""

from __future__ import annotations

import uuid
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from moto.iam.models import iam_backends

from emulator.iam.policy import Check, Effect, evaluate
from emulator.iam.principals import PARTITION, _managed

_DECISION = {Effect.ALLOW: "allowed", Effect.DENY: "explicitDeny", Effect.IMPLICIT_DENY: "implicitDeny"}
_XMLNS = "https://iam.amazonaws.com/doc/2010-05-08/"


def is_simulation(body: bytes) -> bool:
    return b"Action=SimulatePrincipalPolicy" in body


def _members(form: dict[str, list[str]], name: str) -> list[str]:
    keys = sorted((k for k in form if k.startswith(f"{name}.member.")), key=lambda k: int(k.rsplit(".", 1)[1]))
    return [form[k][0] for k in keys]


def _context(form: dict[str, list[str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    i = 1
    while f"ContextEntries.member.{i}.ContextKeyName" in form:
        out[form[f"ContextEntries.member.{i}.ContextKeyName"][0]] = _members(
            form, f"ContextEntries.member.{i}.ContextKeyValues"
        )
        i += 1
    return out


def _documents(account: str, arn: str) -> list[str] | None:
    iam = iam_backends[account][PARTITION]
    for principal in [*iam.roles.values(), *iam.users.values()]:
        if principal.arn == arn:
            return [*principal.policies.values(), *_managed(principal.managed_policies)]
    return None


def _member(action: str, resource: str, decision: str) -> str:
    return (
        f"<member><EvalActionName>{escape(action)}</EvalActionName><EvalResourceName>{escape(resource)}"
        f"</EvalResourceName><EvalDecision>{decision}</EvalDecision><MatchedStatements/><MissingContextValues/>"
        "</member>"
    )


def answer(body: bytes, account: str) -> tuple[int, dict[str, str], bytes]:
    form = parse_qs(body.decode())
    arn = form.get("PolicySourceArn", [""])[0]
    documents = _documents(account, arn)
    request_id = str(uuid.uuid4())
    headers = {"Content-Type": "text/xml"}
    if documents is None:
        error = (
            f'<ErrorResponse xmlns="{_XMLNS}"><Error><Type>Sender</Type><Code>NoSuchEntity</Code>'
            f"<Message>{escape(arn)} does not exist.</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        )
        return 404, headers, error.encode()
    context = _context(form)
    members = [
        _member(action, resource, _DECISION[evaluate(documents, Check(action, resource, context))])
        for action in _members(form, "ActionNames")
        for resource in _members(form, "ResourceArns") or ["*"]
    ]
    xml = (
        f'<SimulatePrincipalPolicyResponse xmlns="{_XMLNS}"><SimulatePrincipalPolicyResult>'
        f"<IsTruncated>false</IsTruncated><EvaluationResults>{''.join(members)}</EvaluationResults>"
        f"</SimulatePrincipalPolicyResult><ResponseMetadata><RequestId>{request_id}</RequestId>"
        "</ResponseMetadata></SimulatePrincipalPolicyResponse>"
    )
    return 200, headers, xml.encode()
