"""Authorising each request before it is answered, and refusing as AWS refuses.

The caller is resolved from the request's access key; every check (`requests`: the operation
itself and the roles it passes; `on_behalf`: what the target service checks with the caller's
policies) must be allowed by the caller's identity policies, or the request is answered with
AccessDenied in the protocol's own error shape, naming the caller, the action and the resource.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections import deque
from dataclasses import dataclass
from xml.sax.saxutils import escape

from emulator.iam import on_behalf, principals, requests
from emulator.iam.catalog import UnknownAction
from emulator.iam.policy import Check, Effect, denial_message

log = logging.getLogger("rtb_mlops.emulator.iam")
SWITCH = "RTB_MLOPS_EMULATOR_IAM"  # "off" only to debug a flow without authorisation


@dataclass(frozen=True)
class Refusal:
    code: str
    message: str
    protocol: str


class Enforcer:
    def __init__(self, account: str, enabled: bool | None = None):
        self.account = account
        self.enabled = os.environ.get(SWITCH, "on") != "off" if enabled is None else enabled
        self.denials = 0
        self.recent: deque[str] = deque(maxlen=20)  # the last refusals' messages, for the run's summary
        self._lock = threading.Lock()

    def authorize(self, environ: dict, body: bytes) -> Refusal | None:
        """None when the request may proceed; otherwise how AWS would refuse it."""
        principals.set_current(None)
        if not self.enabled:
            return None
        request = requests.parse(environ, body)
        if request is None:
            return None
        try:
            caller = principals.resolve(request.access_key, request.session_token, self.account)
            principals.set_current(caller)
        except principals.UnknownCaller:
            return self._refuse(
                Refusal(
                    "UnrecognizedClientException",
                    "The security token included in the request is invalid.",
                    request.protocol,
                ),
                f"unknown access key {request.access_key[:8]}... calling {request.action}",
            )
        try:
            wanted = requests.checks(request, self.account, caller.arn)
        except UnknownAction:
            wanted = [Check(request.action, "*")]
        context = wanted[0].context if wanted else {}
        for check in wanted + on_behalf.checks(request, self.account, context):
            effect = principals.allows(caller, check)
            if effect is not Effect.ALLOW:
                message = denial_message(caller.arn, check, effect)
                return self._refuse(Refusal("AccessDeniedException", message, request.protocol), message)
        on_behalf.after_success(request, self.account)
        return None

    def _refuse(self, refusal: Refusal, what: str) -> Refusal:
        with self._lock:
            self.denials += 1
            self.recent.append(what)
        log.warning("iam: denied: %s", what)
        return refusal


def error_response(refusal: Refusal) -> tuple[int, dict[str, str], bytes]:
    """The refusal in the shape its request's protocol uses for errors."""
    if refusal.protocol in ("json", "rest-json"):
        status = 400 if refusal.protocol == "json" else 403
        headers = {"Content-Type": "application/x-amz-json-1.1", "x-amzn-ErrorType": refusal.code}
        return status, headers, json.dumps({"__type": refusal.code, "message": refusal.message}).encode()
    code = {"AccessDeniedException": "AccessDenied", "UnrecognizedClientException": "InvalidClientTokenId"}[
        refusal.code
    ]
    error = f"<Code>{code}</Code><Message>{escape(refusal.message)}</Message>"
    if refusal.protocol == "rest-xml":
        body = f"<Error>{error}</Error>"
    else:
        body = (
            f"<ErrorResponse><Error><Type>Sender</Type>{error}</Error><RequestId>emulator</RequestId></ErrorResponse>"
        )
    return 403, {"Content-Type": "text/xml"}, body.encode()
