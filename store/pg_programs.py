"""Running the PostgreSQL client programs for backups (``pg_dump``, ``pg_restore``, ``psql``)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from core.errors import InputError

PG_LIB = Path("/usr/lib/postgresql")


def pg_tool(name: str) -> str:
    """The path of a PostgreSQL program (``pg_dump``, ``pg_restore``): ``PATH`` first, else the
    newest ``/usr/lib/postgresql/<version>/bin``.

    Raises
    ------
    core.errors.InputError
        The program is not installed.
    """
    found = shutil.which(name)
    if found:
        return found
    versions = sorted((p for p in PG_LIB.glob(f"*/bin/{name}") if p.parent.parent.name.isdigit()),
                      key=lambda p: int(p.parent.parent.name), reverse=True)
    if versions:
        return str(versions[0])
    raise InputError(name, f"not found on PATH nor under {PG_LIB}/<version>/bin",
                     "install the PostgreSQL client programs (apt-get install postgresql-client)")



def failure(tool: str, errors: bytes | str, source: str, fix: str) -> InputError:
    """One line for a program that failed: its first error message (else its first line) and ``fix``."""
    text_ = errors.decode(errors="replace") if isinstance(errors, bytes) else errors
    lines = [line.strip() for line in text_.splitlines() if line.strip()]
    first = next((line for line in lines if "error" in line.lower()), lines[0] if lines else "no message")
    return InputError(source, f"{tool} failed: {first}", fix)


def run(args: list[str], *, env: dict[str, str] | None, source: str, fix: str) -> str:
    """Run a PostgreSQL program; its standard output, or :func:`failure` raised."""
    tool = Path(args[0]).name
    try:
        done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    except OSError as exc:
        raise InputError(tool, f"cannot run ({exc})", "install the PostgreSQL client programs") from exc
    if done.returncode != 0:
        raise failure(tool, done.stderr, source, fix)
    return done.stdout


def restore_script(script: list[str], uri: str, env: dict[str, str], *, first: str, source: str, fix: str) -> None:
    """Run the SQL that ``script`` (pg_restore writing to stdout) prints through ``psql`` in one
    transaction that starts with the statement ``first``; committed only when both programs
    succeed (a restore cut short by a damaged backup rolls back, as psql's --single-transaction
    would not: it commits at the end of its input)."""
    with tempfile.TemporaryFile() as script_errors, tempfile.TemporaryFile() as psql_output:
        try:
            psql = subprocess.Popen([pg_tool("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", f"--dbname={uri}"],
                                    env={**env, "PGOPTIONS": "-c client_min_messages=warning"},
                                    stdin=subprocess.PIPE, stdout=psql_output, stderr=subprocess.STDOUT)
            writer = subprocess.Popen(script, env=env, stdout=subprocess.PIPE, stderr=script_errors)
        except OSError as exc:
            raise InputError(Path(script[0]).name, f"cannot run ({exc})",
                             "install the PostgreSQL client programs") from exc
        assert psql.stdin is not None and writer.stdout is not None
        try:
            psql.stdin.write(f"BEGIN;\n{first};\n".encode())
            shutil.copyfileobj(writer.stdout, psql.stdin, 1 << 20)
            if writer.wait() == 0:
                psql.stdin.write(b"COMMIT;\n")
        except BrokenPipeError:
            writer.kill()  # psql stopped at an error: its transaction is rolled back
        finally:
            writer.wait()
            try:
                psql.stdin.close()
            except BrokenPipeError:
                pass
        psql.wait()
        psql_output.seek(0)
        script_errors.seek(0)
        if psql.returncode != 0:
            raise failure("psql", psql_output.read(), source, fix)
        if writer.returncode != 0:
            raise failure(Path(script[0]).name, script_errors.read(), source, fix)
