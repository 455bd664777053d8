"""The embedded AWS emulator: moto, plus what moto lacks or fakes, with real behaviour.

Listens on 127.0.0.1 only. Local mode is `AWS_ENDPOINT_URL` pointing here.
"""
