"""Production configuration files (deploy/) rendered for a local stack: only the values of named
settings change, and a setting that is not in the file once is an error, so the tests can never run
a configuration the deploy files do not have."""
import re
from pathlib import Path


def render(path: Path, values: dict[str, str | int], line: str) -> str:
    """`path` with each `values` setting replaced; `line` is the setting's line with `{key}` and
    `{value}`, e.g. `{key}={value}` or `#!substdef "!{key}!{value}!g"`."""
    text = path.read_text()
    for key, value in values.items():
        pattern = re.escape(line.format(key=key, value="\0")).replace("\\\0", ".*").replace("\0", ".*")
        text, count = re.subn(f"^{pattern}$", line.format(key=key, value=value).replace("\\", "\\\\"), text, flags=re.M)
        if count != 1:
            raise KeyError(f"{key} is not set exactly once in {path}")
    return text
