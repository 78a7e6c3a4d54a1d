"""Test kit for plugin authors: fixtures and one-line conformance suites.

The pytest plugin (:mod:`etlcore.testing.pytest_plugin`) is loaded automatically once etlcore
is installed; the conformance suites live in :mod:`etlcore.testing.conformance`.
"""
