"""Accounts for the web pages (kb user): add one with a role and a password, list them,
remove one. kb.toml keeps its comments and layout; the server sees a change at once."""

from __future__ import annotations

import sys

import click

from kb.app.accounts import add_account, list_accounts, remove_account
from kb.app.auth import RESERVED_NAMES, ROLES, valid_name
from kb.cli.options import handle_errors, json_option, print_json, root_option
from kb.core import config as config_module
from kb.core.texts import text, texts


@click.group("user")
def user():
    """Who may sign in to the web pages, with which role (kb.toml [auth]).

    \b
    Roles: reader (everyone, signed in or not), writer (logs reflections), facilitator (also
    actions, learning questions, sessions and verdicts), admin (everything).
    \b
      kb user add anna --role writer --name "Anna Lind"      asks for the password twice
      echo "$PASSWORD" | kb user add erik --role facilitator  reads it from standard input
      kb user add maria@malmo.se --role admin --sign-on       no password: the sign-on proxy
      kb user list
      kb user remove anna
    """


@user.command("add")
@click.argument("name")
@root_option
@click.option("--role", type=click.Choice(ROLES), default="writer", show_default=True, help="What the user may do.")
@click.option("--name", "display_name", help="How the user is named to others (e.g. in feeds): "
              "\"Anna Lind\". Default: the area of what they write.")
@click.option("--sign-on", is_flag=True, help="No password: the organisation's sign-on proxy signs the user in "
              "(kb.toml [auth] proxy_header).")
@json_option
@handle_errors
def user_add(name, root, role, display_name, sign_on, as_json):
    """Add the user NAME (or change their role, password or display name).

    The password is asked for twice in a terminal, or read from the first line of
    standard input; only its hash is written to kb.toml.
    """
    config = config_module.load(root)
    if name.casefold() in RESERVED_NAMES:
        raise click.BadParameter(f"{name!r} is reserved: Datasette gives a user named root every power; "
                                 "choose another name", param_hint="NAME")
    if not valid_name(name):  # before asking for a password it would not keep
        raise click.BadParameter(f"{name!r} is not a user name: use ASCII letters, digits and . _ @ -",
                                 param_hint="NAME")
    password = None
    if not sign_on:
        if sys.stdin.isatty():
            t = texts(config.language)
            password = click.prompt(t["cli_user_password"].capitalize(), hide_input=True,
                                    confirmation_prompt=t["cli_user_password_again"], err=True)
        else:
            password = sys.stdin.readline().rstrip("\r\n")
            if not password:
                raise click.UsageError("no password on standard input (or give --sign-on)")
    account = add_account(config, name, role=role, password=password, display_name=display_name)
    if as_json:
        print_json(account.to_dict())
        return
    t = texts(config.language)  # the words around the account speak the knowledge base's language
    how = t["cli_user_with_password" if account.password else "cli_user_sign_on_only"]
    shown = ", " + t["cli_user_shown_as"].format(name=account.display_name) if account.display_name else ""
    click.echo(f"{account.name}: {t['role_' + account.role]}, {how}{shown} (kb.toml [auth]).")


@user.command("list")
@root_option
@json_option
@handle_errors
def user_list(root, as_json):
    """Everyone with a password or a role: name, role, how they sign in, display name."""
    config = config_module.load(root)
    accounts = list_accounts(config)
    if as_json:
        print_json([a.to_dict() for a in accounts])
        return
    t = texts(config.language)
    if not accounts:
        click.echo(t["cli_no_users"], err=True)
    width = max((len(a.name) for a in accounts), default=0)
    roles = {a.name: t["role_" + a.role] for a in accounts}
    role_width = max((len(r) for r in roles.values()), default=0)
    for a in accounts:
        how = t["cli_user_sign_on"]
        if a.password:
            how = t["cli_user_password"] + (" ($KB_WRITERS)" if a.from_environment else "")
        click.echo(f"{a.name:<{width}}  {roles[a.name]:<{role_width}}  {how}"
                   + (f"  {a.display_name}" if a.display_name else ""))


@user.command("remove")
@click.argument("name")
@root_option
@handle_errors
def user_remove(name, root):
    """Remove the user NAME from kb.toml: their password, role and display name; any
    session they have ends at their next click."""
    config = config_module.load(root)
    removed = remove_account(config, name)
    click.echo(text("cli_user_removed", config.language, name=removed.name,
                    role=text("role_" + removed.role, config.language)))
