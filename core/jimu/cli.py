"""The ``jimu`` command: serve, worker, scheduler, migrate, tenants, users, plugins, demo."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import typer
from jimu_sdk.errors import JimuError
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn
from rich.table import Table as RichTable

from jimu.kernel import Kernel

app = typer.Typer(help="积木 Jimu — plugin-based SCRM platform", no_args_is_help=True)
tenant_app = typer.Typer(help="Manage tenants", no_args_is_help=True)
user_app = typer.Typer(help="Manage users", no_args_is_help=True)
plugins_app = typer.Typer(help="List, enable and disable plugins; run their commands",
                          no_args_is_help=True)
app.add_typer(tenant_app, name="tenant")
app.add_typer(user_app, name="user")
app.add_typer(plugins_app, name="plugins")

console = Console()
T = TypeVar("T")


def _kernel() -> Kernel:
    kernel = Kernel()
    kernel.load_plugins()
    for name, broken in kernel.plugins.broken.items():
        console.print(f"[yellow]plugin {name} is broken:[/] {broken.error}")
    return kernel


def _run(work: Callable[[Kernel], Awaitable[T]]) -> T:
    async def main() -> T:
        kernel = _kernel()
        kernel.db.activate()
        try:
            return await work(kernel)
        finally:
            await kernel.flush_failures()
            await kernel.db.close()

    try:
        return asyncio.run(main())
    except JimuError as exc:
        console.print(f"[red]error:[/] {exc.message}")
        raise typer.Exit(2) from exc


async def _tenant_id(slug: str) -> int:
    from jimu.db.tables import Tenant

    row = await Tenant.select(Tenant.id).where(Tenant.slug == slug).first()
    if row is None:
        raise JimuError(f"no tenant with code {slug!r}; see `jimu tenant list`")
    return row["id"]


# ------------------------------------------------------------------------------ database


async def migrate_all(kernel: Kernel, *, backwards: bool = False) -> list[str]:
    kernel.db.activate()
    names = kernel.db.app_names(backwards=backwards)
    with Progress(TextColumn("{task.description}"), BarColumn(),
                  TextColumn("{task.completed}/{task.total}"), console=console,
                  transient=True) as progress:
        task = progress.add_task("migrating" if not backwards else "reverting",
                                 total=len(names))

        def step(name: str) -> None:
            progress.update(task, description=f"{'reverting' if backwards else 'migrating'} "
                                              f"{name}")
            progress.advance(task)

        done = await kernel.db.migrate(backwards=backwards, progress=step)
    return done


@app.command()
def migrate(backwards: Annotated[bool, typer.Option(
        "--backwards", help="Undo every migration of every app (asks for confirmation)")] = False,
            yes: Annotated[bool, typer.Option("--yes", help="Do not ask")] = False) -> None:
    """Apply the migrations of core and every installed plugin (or undo them all)."""
    if backwards and not yes:
        typer.confirm("This drops every Jimu table and its data. Continue?", abort=True)
    names = _run(lambda k: migrate_all(k, backwards=backwards))
    console.print(f"[green]{'reverted' if backwards else 'migrated'}:[/] {', '.join(names)}")


# ------------------------------------------------------------------------------ processes


@app.command()
def serve(host: str = "127.0.0.1", port: int = 8000,
          migrate_first: Annotated[bool, typer.Option(
              "--migrate/--no-migrate", help="Apply migrations before serving")] = True,
          reload: bool = False) -> None:
    """Serve the web app and API (with in-process jobs unless BROKER_URL is set)."""
    import uvicorn

    from jimu.logs import configure_logging

    if migrate_first:
        _run(migrate_all)
    configure_logging(os.environ.get("JIMU_LOG_LEVEL", "INFO"))
    console.print(f"[green]Jimu[/] on http://{host}:{port}  (API: http://{host}:{port}/schema)")
    uvicorn.run("jimu.asgi:app", host=host, port=port, reload=reload, log_config=None,
                lifespan="on")


async def _run_until_signalled(kernel: Kernel, *, worker: bool, scheduler: bool) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await kernel.start(worker=worker, scheduler=scheduler)
    try:
        await stop.wait()
    finally:
        await kernel.stop()


@app.command()
def worker(threads: Annotated[int, typer.Option(help="worker threads")] = 4) -> None:
    """Run a job worker against BROKER_URL (scale by starting more)."""
    from jimu.logs import configure_logging

    configure_logging(os.environ.get("JIMU_LOG_LEVEL", "INFO"))

    async def main() -> None:
        kernel = _kernel()
        kernel.jobs.declare_actors()
        kernel.jobs.start_worker(threads=threads)
        await _run_until_signalled(kernel, worker=False, scheduler=False)

    asyncio.run(main())


@app.command()
def scheduler() -> None:
    """Run the scheduler: due timers, cron schedules and the outbox relay."""
    from jimu.logs import configure_logging

    configure_logging(os.environ.get("JIMU_LOG_LEVEL", "INFO"))
    asyncio.run(_run_until_signalled(_kernel(), worker=False, scheduler=True))


# ------------------------------------------------------------------------------ tenants, users


@tenant_app.command("create")
def tenant_create(slug: str, name: Annotated[str, typer.Option(help="display name")],
                  admin: Annotated[str, typer.Option(help="first admin's username")],
                  password: Annotated[str, typer.Option(
                      prompt=True, hide_input=True, confirmation_prompt=True,
                      help="first admin's password")],
                  plugin: Annotated[list[str] | None, typer.Option(
                      help="plugin to enable (repeatable)")] = None) -> None:
    """Create a tenant with its first admin."""
    from jimu.services.tenants import create_tenant

    async def work(kernel: Kernel) -> dict[str, Any]:
        async with kernel.tenant_scope(None):
            return await create_tenant(kernel, slug=slug, name=name, admin_username=admin,
                                       admin_password=password, plugins=plugin or [])

    row = _run(work)
    console.print(f"[green]created tenant[/] {row['slug']} (id {row['id']}), admin {admin}")


@tenant_app.command("list")
def tenant_list() -> None:
    """List tenants."""
    from jimu.db.tables import Tenant

    async def work(kernel: Kernel) -> list[dict[str, Any]]:
        return await Tenant.select().order_by(Tenant.id)

    table = RichTable("id", "code", "name", "status")
    for row in _run(work):
        table.add_row(str(row["id"]), row["slug"], row["name"], row["status"])
    console.print(table)


def _set_status(code: str, status: str) -> bool:
    """Suspend or resume a tenant; ``False`` when it already had that status."""
    from jimu.db.tables import Tenant
    from jimu.services.tenants import set_tenant_status

    async def work(kernel: Kernel) -> bool:
        tenant_id = await _tenant_id(code)
        async with kernel.tenant_scope(None):
            before = await Tenant.select(Tenant.status).where(Tenant.id == tenant_id).first()
            await set_tenant_status(kernel, tenant_id, status)
        return before is None or before["status"] != status

    return _run(work)


@tenant_app.command("suspend")
def tenant_suspend(code: str) -> None:
    """Suspend a tenant: its users can no longer sign in; nothing is deleted."""
    changed = _set_status(code, "suspended")
    console.print(f"[green]suspended tenant[/] {code}" if changed
                  else f"tenant {code} was already suspended")


@tenant_app.command("resume")
def tenant_resume(code: str) -> None:
    """Resume a suspended tenant."""
    changed = _set_status(code, "active")
    console.print(f"[green]resumed tenant[/] {code}" if changed
                  else f"tenant {code} was already active")


@tenant_app.command("templates")
def tenant_templates() -> None:
    """List the industry templates (行业模板) and the plugins each one enables."""
    from jimu.services.industry_templates import load_templates

    installed = _kernel().plugins.plugins
    table = RichTable("key", "title (zh-CN / en)", "plugins")
    for key, template in sorted(load_templates().items()):
        plugins = [slug if slug in installed else f"{slug} [red](not installed)[/]"
                   for slug in template.plugins]
        table.add_row(key, f"{template.title.get('zh-CN', '')} / {template.title.get('en', '')}",
                      ", ".join(plugins))
    console.print(table)


def _settings_change(before: dict[str, Any] | None, after: dict[str, Any] | None) -> str:
    before, after = before or {}, after or {}
    return ", ".join(f"{key} {before.get(key)!r} → {after[key]!r}" for key in sorted(after)
                     if before.get(key) != after[key])


@tenant_app.command("apply-template")
def tenant_apply_template(code: str, template_key: str,
                          dry_run: Annotated[bool, typer.Option(
                              "--dry-run", help="Print the plan; change nothing")] = False
                          ) -> None:
    """Apply an industry template (行业模板): enable its plugins and write its settings."""
    from jimu.db.tables import Tenant
    from jimu.services import industry_templates
    from jimu.services.industry_templates import PlannedStep

    async def work(kernel: Kernel) -> tuple[list[PlannedStep], list[PlannedStep], bool]:
        template = industry_templates.get_template(template_key)
        tenant_id = await _tenant_id(code)
        async with kernel.tenant_scope(tenant_id):
            steps = await industry_templates.plan(kernel, template)
            if dry_run:
                return steps, [], False
            before = await Tenant.select(Tenant.template).where(Tenant.id == tenant_id).first()
            with Progress(TextColumn("{task.description}"), BarColumn(),
                          TextColumn("{task.completed}/{task.total}"), console=console,
                          transient=True) as progress:
                task = progress.add_task(f"applying {template.key}", total=len(steps))

                # The service calls this before each step; the bar counts the steps done.
                def tick(index: int, total: int, plugin: str) -> None:
                    progress.update(task, completed=index - 1, description=plugin)

                changed = await industry_templates.apply(kernel, template, progress=tick)
                progress.update(task, completed=len(steps))
            recorded = before is None or before["template"] != template.key
        return steps, changed, recorded

    steps, changed, recorded = _run(work)
    if dry_run:
        table = RichTable("plugin", "action", "settings")
        for step in steps:
            table.add_row(step.plugin, step.action, _settings_change(step.before, step.after))
        console.print(table)
        missing = [s.plugin for s in steps if s.action == "missing"]
        if missing:
            console.print(f"[red]error:[/] template {template_key} names plugins that are not "
                          f"installed: {', '.join(missing)}")
            raise typer.Exit(2)
        changes = sum(1 for s in steps if s.action in ("enable", "configure"))
        console.print(f"dry run: {changes} change(s) would be made" if changes
                      else "dry run: already applied; nothing would change")
        return
    for step in changed:
        if step.action == "enable":
            console.print(f"[green]enabled[/] {step.plugin}")
        else:
            console.print(f"[green]configured[/] {step.plugin}: "
                          f"{_settings_change(step.before, step.after)}")
    if changed:
        console.print(f"applied template {template_key} to tenant {code}: "
                      f"{len(changed)} change(s)")
    elif recorded:
        console.print(f"recorded template {template_key} for tenant {code}; its plugins and "
                      "settings already matched")
    else:
        console.print(f"template {template_key} already applied; nothing changed")


@user_app.command("create")
def user_create(username: str,
                password: Annotated[str, typer.Option(prompt=True, hide_input=True,
                                                      confirmation_prompt=True)],
                tenant: Annotated[str | None, typer.Option(help="tenant code")] = None,
                role: str = "staff",
                platform_operator: Annotated[bool, typer.Option(
                    "--platform-operator", help="a platform operator (no tenant)")] = False
                ) -> None:
    """Create a user in a tenant, or a platform operator."""
    from jimu.db.tables import Role, User
    from jimu.services.auth import hash_password
    from jimu.services.tenants import check_username

    if platform_operator == (tenant is not None):
        console.print("[red]error:[/] give either --tenant or --platform-operator")
        raise typer.Exit(2)

    async def work(kernel: Kernel) -> int:
        check_username(username)
        tenant_id = await _tenant_id(tenant) if tenant else None
        async with kernel.tenant_scope(tenant_id):
            if await User.exists().where(User.username == username):
                raise JimuError(f"the username {username!r} is taken")
            if tenant_id is not None and not await Role.scoped_count().where(Role.name == role):
                raise JimuError(f"no role {role!r} in tenant {tenant}")
            user = User(tenant_id=tenant_id, username=username, display_name=username,
                        password_hash=hash_password(password),
                        role="operator" if platform_operator else role,
                        is_platform_operator=platform_operator)
            await user.save()
            return user.id

    console.print(f"[green]created user[/] {username} (id {_run(work)})")


# ------------------------------------------------------------------------------ plugins


@plugins_app.command("list")
def plugins_list(tenant: Annotated[str | None, typer.Option(
        help="show which plugins this tenant has on")] = None) -> None:
    """Installed plugins (and broken ones)."""

    async def work(kernel: Kernel) -> tuple[Kernel, frozenset[str] | None]:
        if tenant is None:
            return kernel, None
        tenant_id = await _tenant_id(tenant)
        async with kernel.tenant_scope(tenant_id, write=False):
            return kernel, (await kernel.tenant_state(tenant_id)).enabled

    kernel, enabled = _run(work)
    table = RichTable("plugin", "version", "title", "depends", "status")
    for slug, plugin in sorted(kernel.plugins.plugins.items()):
        status = "ok" if enabled is None else ("on" if slug in enabled else "off")
        table.add_row(slug, plugin.meta.version,
                      f"{plugin.meta.title['zh-CN']} / {plugin.meta.title['en']}",
                      ", ".join(plugin.meta.depends), status)
    for name, broken in sorted(kernel.plugins.broken.items()):
        table.add_row(name, "", "", "", f"[red]broken[/]: {broken.error}")
    console.print(table)


@plugins_app.command("enable")
def plugins_enable(slug: str, tenant: Annotated[str, typer.Option(help="tenant code")],
                   no_dependencies: bool = False) -> None:
    """Enable a plugin for a tenant (with its dependencies unless --no-dependencies)."""
    from jimu.services.tenants import enable_plugin

    async def work(kernel: Kernel) -> list[str]:
        tenant_id = await _tenant_id(tenant)
        async with kernel.tenant_scope(tenant_id):
            return await enable_plugin(kernel, slug, with_dependencies=not no_dependencies)

    newly = _run(work)
    console.print(f"[green]enabled:[/] {', '.join(newly) or 'nothing (already on)'}")


@plugins_app.command("disable")
def plugins_disable(slug: str, tenant: Annotated[str, typer.Option(help="tenant code")]
                    ) -> None:
    """Disable a plugin for a tenant (refused while another enabled plugin needs it)."""
    from jimu.services.tenants import disable_plugin

    async def work(kernel: Kernel) -> bool:
        tenant_id = await _tenant_id(tenant)
        async with kernel.tenant_scope(tenant_id):
            return await disable_plugin(kernel, slug)

    console.print("[green]disabled[/]" if _run(work) else "already off")


@plugins_app.command("commands")
def plugins_commands() -> None:
    """The commands plugins add (run them with `jimu plugins run`)."""
    kernel = _kernel()
    table = RichTable("plugin", "command", "options", "what it does")
    for slug, plugin in sorted(kernel.plugins.plugins.items()):
        for command in plugin.contributed("register_cli_commands", []):
            options = " ".join(f"--{o.name}" + ("" if o.flag else " VALUE")
                               + ("" if o.required else "?") for o in command.options)
            table.add_row(slug, command.name, options, command.help)
    console.print(table)


def command_options(command: Any, words: list[str]) -> dict[str, Any]:
    """``--period 2026-10 --close`` as ``{"period": "2026-10", "close": True}``, checked
    against the command's options."""
    known = {o.name: o for o in command.options}
    values: dict[str, Any] = {}
    index = 0
    while index < len(words):
        word = words[index]
        name, _, inline = word[2:].partition("=") if word.startswith("--") else ("", "", "")
        option = known.get(name.replace("-", "_")) or known.get(name)
        if option is None:
            raise JimuError(f"{command.name} has no option {word!r}; it takes "
                            f"{', '.join('--' + o for o in known) or 'none'}")
        if option.flag:
            values[option.name] = True
        elif inline:
            values[option.name] = inline
        elif index + 1 < len(words):
            index += 1
            values[option.name] = words[index]
        else:
            raise JimuError(f"--{option.name} needs a value")
        index += 1
    missing = [f"--{o.name}" for o in command.options if o.required and o.name not in values]
    if missing:
        raise JimuError(f"{command.name} needs {', '.join(missing)}")
    return values


@plugins_app.command("run", context_settings={"allow_extra_args": True,
                                              "ignore_unknown_options": True})
def plugins_run(ctx: typer.Context, slug: str, command_name: str,
                tenant: Annotated[str, typer.Option(help="tenant code")]) -> None:
    """Run a plugin's command for a tenant, with a progress bar: `jimu plugins run
    settlement run --tenant demo --period 2026-10`."""
    from jimu.jobs import outside_transaction

    async def work(kernel: Kernel) -> tuple[bool, Any]:
        plugin = kernel.plugins.plugins.get(slug)
        if plugin is None:
            raise JimuError(f"no plugin {slug!r}; see `jimu plugins list`")
        commands = {c.name: c for c in plugin.contributed("register_cli_commands", [])}
        command = commands.get(command_name)
        if command is None:
            raise JimuError(f"{slug} has no command {command_name!r}; it has "
                            f"{', '.join(sorted(commands)) or 'none'}")
        options = command_options(command, list(ctx.args))
        tenant_id = await _tenant_id(tenant)
        with Progress(TextColumn("{task.description}"), BarColumn(),
                      TextColumn("{task.percentage:>3.0f}%"), console=console,
                      transient=True) as bar:
            task = bar.add_task(f"{slug} {command.name}", total=100)

            def progress(percent: int, stage: str) -> None:
                bar.update(task, completed=max(0, min(100, percent)),
                           description=f"{slug} {command.name}: {stage}")

            return await outside_transaction(kernel, slug, tenant_id,
                                             lambda: command.run(options, progress))

    ran, message = _run(work)
    if not ran:
        console.print(f"[red]error:[/] tenant {tenant} has the plugin {slug} off")
        raise typer.Exit(2)
    if message:
        console.print(message)


# ------------------------------------------------------------------------------ demo


@app.command()
def demo(password: Annotated[str | None, typer.Option(
        help="password for the demo logins (default: a new random one)")] = None) -> None:
    """Create (or refresh) the demo tenant and print its logins."""
    from jimu.demo import ensure_demo

    secret = password or secrets.token_urlsafe(9)

    async def work(kernel: Kernel) -> dict[str, str]:
        with Progress(TextColumn("{task.description}"), BarColumn(), console=console,
                      transient=True) as progress:
            task = progress.add_task("demo tenant", total=None)

            def step(label: str) -> None:
                progress.update(task, description=label)

            logins = await ensure_demo(kernel, secret, progress=step)
            # What the sample data set off (orders and work orders booked, a settlement
            # run) is done before the demo is called ready.
            step("processing the demo's events and jobs")
            try:
                await kernel.jobs.drain()
            finally:
                await kernel.jobs.stop()
            return logins

    logins = _run(work)
    console.print("[bold green]Demo ready.[/] Sign in at http://127.0.0.1:8000")
    for role, username in logins.items():
        console.print(f"  {role:>19}: [bold]{username}[/] / [bold]{secret}[/]")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
