"""Starts Switchboard's stack natively on 127.0.0.1, for the development setup and the tests.

One implementation of "how to run each daemon", used by `scripts/dev` and by the integration tests.
"""
