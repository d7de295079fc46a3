"""`python -m stack dev [--watch]` (the development stack, stack/dev.py), `python -m stack
push-walkthrough` (stack/push_walkthrough.py) and `python -m stack with-postgres PORT -- COMMAND`
(the unit tests' database)."""
import sys

from .postgres import Postgres


def with_postgres(port: int, command: list[str]) -> int:
    """Runs `command` with SWITCHBOARD_TEST_DATABASE_URL pointing at a fresh PostgreSQL."""
    import os
    import subprocess
    postgres = Postgres("unit", port).start().create_database()
    try:
        return subprocess.run(command, env={**os.environ, "SWITCHBOARD_TEST_DATABASE_URL": postgres.url}).returncode
    finally:
        postgres.fast_stop()


USAGE = "usage: python -m stack dev [--watch] | python -m stack push-walkthrough | python -m stack with-postgres PORT -- COMMAND..."

if __name__ == "__main__":
    args = sys.argv[1:]
    if args in (["dev"], ["dev", "--watch"]):
        from .dev import dev
        sys.exit(dev(watch=args == ["dev", "--watch"]))
    if args == ["push-walkthrough"]:
        from .push_walkthrough import walkthrough
        sys.exit(walkthrough())
    if len(args) >= 4 and args[0] == "with-postgres" and args[2] == "--":
        sys.exit(with_postgres(int(args[1]), args[3:]))
    sys.exit(USAGE)
