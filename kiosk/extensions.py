"""Flask extensions, created once and bound to the app in create_app."""

from flask_babel import Babel
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from htmx_flask import Htmx

babel = Babel()
csrf = CSRFProtect()
login_manager = LoginManager()
htmx = Htmx()

def init_app(app):
    htmx.init_app(app)
    csrf.init_app(app)
    # The locale selector (kiosk.web.i18n) is set by create_app: it needs the accounts package.
    babel.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
