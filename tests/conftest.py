"""Tests: tests/unit/ runs in-process only (``make unit``, under a minute), tests/integration/
spawns processes, starts Azurite and the Azure ML REST stand-in, and makes real Kedro projects
(marked ``integration``). Shared helpers live in tests/support/; each folder's conftest.py has
its own fixtures and guards.
"""
