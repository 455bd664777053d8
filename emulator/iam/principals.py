"""Who is calling: callers resolved from their access keys in moto's IAM and STS state, and
the credentials the emulator's own actors are given (as AWS services get theirs).

- A person: an IAM user with a long-term access key (AKIA...).
- A service acting as a role (Lambda for its function role, SageMaker for a pipeline's or a
  job's execution role): temporary credentials from sts:AssumeRole, granted only if the role's
  trust policy names that service (IAM User Guide, "Roles terms and concepts": the trust policy).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from moto.iam.models import iam_backends
from moto.sts.models import sts_backends

from emulator.iam.policy import Check, Effect, as_list, evaluate, statements

PARTITION = "aws"


@dataclass(frozen=True)
class Principal:
    arn: str  # arn:aws:iam::ACCOUNT:user/NAME, or arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION
    user_id: str  # what CreatedBy.IamIdentity.PrincipalId carries
    documents: tuple[str, ...]  # its identity policies


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    secret_access_key: str
    session_token: str | None = None

    def environment(self) -> dict[str, str]:
        env = {"AWS_ACCESS_KEY_ID": self.access_key_id, "AWS_SECRET_ACCESS_KEY": self.secret_access_key}
        return env | ({"AWS_SESSION_TOKEN": self.session_token} if self.session_token else {})


_calling = threading.local()


def set_current(principal: Principal | None) -> None:
    """The caller of the request this thread is answering (requests are answered one per thread)."""
    _calling.principal = principal


def current() -> Principal | None:
    return getattr(_calling, "principal", None)


def user_context(principal: Principal) -> dict:
    """A UserContext (CreatedBy/LastModifiedBy) for an IAM caller, as the API reference shapes it."""
    return {"IamIdentity": {"Arn": principal.arn, "PrincipalId": principal.user_id}}


class UnknownCaller(LookupError):
    """Credentials that no user or assumed role in the account holds."""


class NotTrusted(PermissionError):
    """A role whose trust policy does not let the service assume it."""


def _iam(account: str):
    return iam_backends[account][PARTITION]


def _managed(policies: dict) -> list[str]:
    return [v.document for p in policies.values() for v in p.versions if v.is_default]


def resolve(access_key: str, session_token: str | None, account: str) -> Principal:
    iam = _iam(account)
    for user in iam.users.values():
        if any(k.access_key_id == access_key and k.status == "Active" for k in user.access_keys):
            if session_token:
                raise UnknownCaller("a long-term access key was sent with a session token")
            docs = [*user.policies.values(), *_managed(user.managed_policies)]
            for group in iam.get_groups_for_user(user.name):
                docs += [*group.policies.values(), *_managed(group.managed_policies)]
            return Principal(user.arn, user.id, tuple(docs))
    session = sts_backends[account][PARTITION].get_assumed_role_from_access_key(access_key)
    if session is None or session.session_token != session_token:
        raise UnknownCaller(access_key)
    role = iam.get_role_by_arn(session.role_arn)
    docs = [*role.policies.values(), *_managed(role.managed_policies)]
    return Principal(session.arn, session.user_id, tuple(docs))


def assume(role_arn: str, service: str, session_name: str, account: str, region: str) -> Credentials:
    """The credentials `service` (e.g. "lambda.amazonaws.com") gets for a role it runs as."""
    iam = _iam(account)
    try:
        role = iam.get_role_by_arn(role_arn)
    except Exception:  # moto's NotFoundException
        raise NotTrusted(f"{service} cannot assume {role_arn}: no such role") from None
    allowed = any(
        s.get("Effect") == "Allow"
        and "sts:AssumeRole" in as_list(s.get("Action", []))
        and service in as_list((s.get("Principal") or {}).get("Service", []))
        for s in statements(role.assume_role_policy_document)
    )
    if not allowed:
        raise NotTrusted(f"the trust policy of {role_arn} does not allow {service} to call sts:AssumeRole")
    session = sts_backends[account][PARTITION].assume_role(region, session_name, role_arn, None, 3600, None)
    return Credentials(session.access_key_id, session.secret_access_key, session.session_token)


PERSON = "ml-engineer"


def create_person(account: str, region: str) -> Credentials:
    """The person at the CLI: an IAM user with what an ML engineer on this project is given
    (ml_engineer.json: SageMaker work in the account, the project's buckets and stacks, passing
    the execution role to SageMaker, reading what the flow left behind), and an access key."""
    policy = (Path(__file__).parent / "ml_engineer.json").read_text().replace("${Account}", account)
    iam = _iam(account)
    if PERSON not in iam.users:
        iam.create_user(region, PERSON)
    iam.put_user_policy(PERSON, "ml-engineer", policy)
    key = iam.create_access_key(PERSON)
    return Credentials(key.access_key_id, key.secret_access_key)


def allows(principal: Principal, check: Check) -> Effect:
    return evaluate(list(principal.documents), check)
