"""Sign-in pages: login, logout, password change, language choice."""

from __future__ import annotations

import secrets
from typing import Any

from jimu_sdk.errors import JimuError, NotAuthenticated, ValidationFailed
from litestar import Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.response import Redirect, Template

from jimu.db.tables import User, UserSession
from jimu.i18n import LOCALES
from jimu.services.auth import (
    TooManyAttempts,
    hash_password,
    login,
    logout,
    token_digest,
    verify_password,
)
from jimu.web.guards import request_context, signed_in
from jimu.web.pages_support import (
    FormState,
    _,
    form_data,
    kernel_of,
    page,
    redirect,
    safe_next,
    take_flash,
)
from jimu.web.request_scope import LANGUAGE_COOKIE, SESSION_COOKIE, session_cookie

LOGIN_CSRF_COOKIE = "jimu_login_csrf"


def _login_page(next_: str, state: FormState, *, status: int = 200, signed_out: bool = False
                ) -> Template:
    token = secrets.token_urlsafe(24)
    cookie = Cookie(key=LOGIN_CSRF_COOKIE, value=token, httponly=True, samesite="strict",
                    path="/login", max_age=3600)
    return page("core/login.html", status=status, cookies=[cookie], form=state,
                login_csrf=token, next=next_, signed_out=signed_out)


@get("/", include_in_schema=False)
async def root(request: Request) -> Redirect:
    context = request_context(request)
    if context.principal is None:
        return Redirect("/login", status_code=303)
    if context.tenant is None and context.principal.is_platform_operator:
        return Redirect("/operator/tenants", status_code=303)
    return Redirect("/admin/", status_code=303)


@get("/login", include_in_schema=False)
async def login_form(request: Request, next: str | None = None) -> Template | Redirect:
    if request_context(request).principal is not None:
        return Redirect(safe_next(next), status_code=303)
    flash = take_flash(request)
    # The only flash that leads here is the goodbye after signing out: good news, not an error.
    return _login_page(safe_next(next), FormState(message=_(flash) if flash else ""),
                       signed_out=bool(flash))


@post("/login", include_in_schema=False)
async def login_submit(request: Request) -> Template | Response[Any]:
    data = await form_data(request)
    next_ = safe_next(data.get("next"))
    username = str(data.get("username", "")).strip()
    values = {"username": username}
    sent = str(data.get("login_csrf", ""))
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not sent or not expected or not secrets.compare_digest(sent, expected):
        return _login_page(next_, FormState(values, message=_(
            "The sign-in form expired. Please sign in again.")), status=403)
    errors = {}
    if not username:
        errors["username"] = _("Enter your username.")
    if not data.get("password"):
        errors["password"] = _("Enter your password.")
    if errors:
        return _login_page(next_, FormState(values, errors), status=422)
    kernel = kernel_of(request)
    try:
        token, user = await login(kernel, username, str(data["password"]),
                                  remote=request.client.host if request.client else "")
    except NotAuthenticated as exc:
        return _login_page(next_, FormState(values, message=_(exc.message)), status=401)
    except TooManyAttempts as exc:
        return _login_page(next_, FormState(values, message=_(
            "Too many failed sign-ins for this user; try again in %(minutes)s minutes.",
            minutes=exc.extra.get("retry_after_minutes", 15))), status=429)
    except JimuError as exc:
        return _login_page(next_, FormState(values, message=_(exc.message)),
                           status=exc.status_code)
    if next_ == "/admin/" and user["is_platform_operator"] and user["tenant_id"] is None:
        next_ = "/operator/tenants"
    response = Redirect(next_, status_code=303)
    response.cookies.append(session_cookie(kernel, token))
    response.cookies.append(Cookie(key=LOGIN_CSRF_COOKIE, value="", max_age=0,
                                   path="/login"))
    return response


@post("/logout", include_in_schema=False, guards=[signed_in])
async def logout_submit(request: Request) -> Redirect:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await logout(token)
    response = redirect("/login", flash="You have signed out.")
    response.cookies.append(Cookie(key=SESSION_COOKIE, value="", max_age=0, path="/"))
    return response


@get("/account/password", include_in_schema=False, guards=[signed_in])
async def password_form(request: Request) -> Template:
    flash = take_flash(request)
    return page("core/password.html", form=FormState(), done=_(flash) if flash else "")


@post("/account/password", include_in_schema=False, guards=[signed_in])
async def password_submit(request: Request) -> Template | Redirect:
    data = await form_data(request)
    principal = request_context(request).principal
    assert principal is not None
    errors: dict[str, str] = {}
    current = str(data.get("current_password", ""))
    new = str(data.get("new_password", ""))
    user = await User.select(User.password_hash).where(User.id == principal.user_id).first()
    if user is None or not verify_password(user["password_hash"], current):
        errors["current_password"] = _("The current password is wrong.")
    if new != str(data.get("confirm_password", "")):
        errors["confirm_password"] = _("The two new passwords differ.")
    if not errors:
        try:
            new_hash = hash_password(new)
        except ValidationFailed:
            errors["new_password"] = _("The password must have at least 8 characters.")
    if errors:
        return page("core/password.html", status=422, form=FormState({}, errors), done="")
    await User.update({User.password_hash: new_hash}).where(User.id == principal.user_id)
    await UserSession.delete().where(
        (UserSession.user_id == principal.user_id)
        & (UserSession.token_hash != token_digest(request.cookies.get(SESSION_COOKIE, ""))))
    return redirect("/account/password", flash="Your password was changed. Other sessions "
                                               "were signed out.")


@post("/account/language", include_in_schema=False)
async def choose_language(request: Request) -> Redirect:
    """Remember the language: on the user when signed in, in a cookie either way."""
    data = await form_data(request)
    locale = str(data.get("locale", ""))
    back = safe_next(data.get("next"), default="/")
    if locale not in LOCALES:
        return Redirect(back, status_code=303)
    principal = request_context(request).principal
    if principal is not None and principal.user_id is not None:
        await User.update({User.locale: locale}).where(User.id == principal.user_id)
    response = Redirect(back, status_code=303)
    response.cookies.append(Cookie(key=LANGUAGE_COOKIE, value=locale, path="/",
                                   max_age=365 * 86400, samesite="lax", httponly=True))
    return response


ROUTES = [root, login_form, login_submit, logout_submit, password_form, password_submit,
          choose_language]
