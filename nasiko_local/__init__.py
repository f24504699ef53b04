"""nasiko-local: the library behind `invoke` tasks, nox sessions and CI.

Tasks stay thin and call these plain functions; tests and CI call them too.

    from nasiko_local.settings import load_stack
    from nasiko_local import stack

    project = load_stack()          # picks the env file, asks Compose for the config
    stack.up(project)               # preflight, start, wait on health
    stack.status(project)           # -> StackStatus
"""
