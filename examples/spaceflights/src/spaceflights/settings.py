"""Project settings.

Only values that differ from the Kedro defaults belong here; see
https://docs.kedro.org/en/stable/configure/configuration_basics/ for the full list.
"""

CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
}
