"""NativeAuthenticator 1.3.0 (its newest release) on JupyterHub 6: two small gaps closed.

JupyterHub 6 removed its statsd client, and it renders a failed form login's error page (an
expired form, say) synchronously through the login handler's ``_render(..., sync=True)``.
NativeAuthenticator's login handler still times each login with ``self.statsd`` (every login
failed with AttributeError and a 500) and its ``_render`` takes no ``sync``. This module adds
both and changes nothing else; drop it once NativeAuthenticator supports JupyterHub 6.
"""

from __future__ import annotations

from nativeauthenticator import NativeAuthenticator
from nativeauthenticator import handlers as native_handlers


class _NoStatsd:
    """Accepts the timer calls NativeAuthenticator makes and records nothing."""

    def timer(self, _name: str) -> _NoStatsd:
        return self

    def start(self) -> _NoStatsd:
        return self

    def stop(self, send: bool = True) -> None:
        pass


class LoginHandler(native_handlers.LoginHandler):
    """NativeAuthenticator's login page with JupyterHub 6's calling conventions."""

    statsd = _NoStatsd()

    def _render(self, login_error=None, username=None, sync=False, **_ignored):
        if not sync:
            return super()._render(login_error=login_error, username=username)
        # The error page is written from a synchronous tornado hook: have the template call
        # NativeAuthenticator makes render at once instead of returning an awaitable.
        render = self.render_template
        self.render_template = lambda name, **ns: render(name, sync=True, **ns)
        try:
            return super()._render(login_error=login_error, username=username)
        finally:
            del self.render_template


class ClassAuthenticator(NativeAuthenticator):
    """NativeAuthenticator, with the login handler above."""

    def get_handlers(self, app):
        return [(path, LoginHandler if handler is native_handlers.LoginHandler else handler)
                for path, handler in super().get_handlers(app)]
