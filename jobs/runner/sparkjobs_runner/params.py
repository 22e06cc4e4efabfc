"""Values an MLlib stage configuration takes from the job's parameters."""


def number(value, ctx):
    """A number given in the configuration, or {"param": name}: the value of that job parameter."""
    return float(ctx["params"][value["param"]]["value"]) if isinstance(value, dict) else float(value)
