"""`flask --app wsgi create-user EMAIL --role admin`: the first admin, and accounts by hand."""
from __future__ import annotations

import click
from email_validator import EmailNotValidError, validate_email
from flask.cli import with_appcontext

from tracker.auth import logic
from tracker.auth.models import Role
from tracker.extensions import db, utcnow


@click.command("create-user")
@click.argument("email")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.EDITOR.value,
              show_default=True)
@click.option("--name", default="", help="Shown to other editors in the audit history.")
@with_appcontext
def create_user_command(email: str, role: str, name: str) -> None:
    """Create an account. The password is read from a prompt (or stdin), never from the command line."""
    try:
        email = validate_email(email, check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise click.BadParameter(str(error), param_hint="EMAIL") from None
    if logic.find_user(db.session, email) is not None:
        raise click.ClickException(f"An account for {email} already exists.")
    while True:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        try:
            logic.check_password_strength(password)
            break
        except logic.AccountError as error:
            click.echo(f"Error: {error}", err=True)
    user = logic.create_user(db.session, email, role=Role(role), password=password, name=name, now=utcnow())
    db.session.commit()
    click.echo(f"Created {user.role.value} account {user.email} (id {user.id}).")
