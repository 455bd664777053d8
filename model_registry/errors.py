"""The base of every error that says what a user gave cannot be used.

A configuration value, a setting in the Lambda's environment, a model artifact or sample
payload, a command-line flag, a model package's metadata: each check raises a subclass of
`UserError` whose message names the field (file and line, variable, key or flag) and what
was expected. The CLI shows these as `error: <message>` with no traceback and exit status 2;
anything else, a `ValueError` from a bug included, is not the user's to fix and is not
dressed up as if it were (as aws-lambda-powertools and starlette separate their user-facing
errors from the rest).

It is a `ValueError` still, so code that validates with `ValueError` (pydantic validators,
callers that catch it) keeps working.
"""

from __future__ import annotations


class UserError(ValueError):
    """Something a user gave cannot be used; the message says which field and what was expected."""
