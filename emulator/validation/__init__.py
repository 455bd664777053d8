"""Request validation as AWS does it before an operation runs: every JSON-protocol request
is checked against botocore's service model (required members, types, enums, lengths,
ranges and patterns) and refused with AWS's own ValidationException wording.

botocore's client-side validator and moto skip patterns, maxima and enums; a real account
does not, so without this a call that AWS refuses passes every local test.
"""

from emulator.validation.requests import RequestValidator

__all__ = ["RequestValidator"]
