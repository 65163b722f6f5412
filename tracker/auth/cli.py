"""`flask --app wsgi create-user EMAIL --role admin`: the first admin, and accounts by hand."""
from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from tracker.auth import logic
from tracker.auth.models import Role
from tracker.extensions import db, utcnow
from tracker.mail.addresses import InvalidEmail, normalise_email


def _read_password() -> str:
    """One line from a pipe (scripts, CI); at a terminal, typed blind, so asked twice.

    Asking a pipe twice made a script pipe the password twice, and a single line end
    in a bare "Aborted!"; getpass on a pipe also warned that the input may be echoed.
    """
    stdin = sys.stdin
    if not stdin.isatty():
        line = stdin.readline()
        if not line:
            raise click.ClickException(
                "No password on standard input: pipe one line, e.g. `printf '%s\\n' \"$PASSWORD\" | "
                "flask --app wsgi create-user EMAIL`, or run it at a terminal."
            )
        password = line.rstrip("\r\n")
        try:
            logic.check_password_strength(password)
        except logic.AccountError as error:
            raise click.ClickException(str(error)) from None
        return password
    while True:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        try:
            logic.check_password_strength(password)
            return password
        except logic.AccountError as error:
            click.echo(f"Error: {error}", err=True)


@click.command("create-user")
@click.argument("email")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.EDITOR.value,
              show_default=True)
@click.option("--name", default="", help="Shown to other editors in the audit history.")
@with_appcontext
def create_user_command(email: str, role: str, name: str) -> None:
    """Create an account.

    The password is never taken from the command line. At a terminal it is asked
    for, hidden, and asked again to confirm. From a pipe, one line is read:

    \b
    printf '%s\\n' "$PASSWORD" | flask --app wsgi create-user EMAIL --role admin
    """
    try:
        email = normalise_email(email)
    except InvalidEmail as error:
        raise click.BadParameter(str(error), param_hint="EMAIL") from None
    if logic.find_user(db.session, email) is not None:
        raise click.ClickException(f"An account for {email} already exists.")
    password = _read_password()
    user = logic.create_user(db.session, email, role=Role(role), password=password, name=name, now=utcnow())
    db.session.commit()
    click.echo(f"Created {user.role.value} account {user.email} (id {user.id}).")
