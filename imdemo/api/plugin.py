"""API layer: one Bottle plugin that authenticates each call and maps every failure to the JSON error shape."""
from __future__ import annotations

import functools
import logging

import bottle

from ..services.auth import AuthService
from ..services.errors import ImdemoError, unavailable_causes
from ..services.inspect import Inspector, action_of
from .errors import error_body, from_service_error, json_response
from .requests import bearer_token

log = logging.getLogger(__name__)


class ApiPlugin:
    """Give each route `me` (the caller's uid, from the token) unless it says auth=False; JSON in and out.

    With the inspector on, each call is one traced action (unless the route says trace=False).
    """

    name = "imdemo_api"
    api = 2

    def __init__(self, auth: AuthService, inspector: Inspector | None = None):
        self.auth, self.inspector = auth, inspector
        self.unavailable = unavailable_causes()

    def apply(self, callback, route):
        needs_auth = route.config.get("auth", True)
        status = route.config.get("status", 200)
        inspector = self.inspector if route.config.get("trace", True) else None

        @functools.wraps(callback)
        def wrapper(*args, **kwargs):
            request = bottle.request
            with action_of(inspector, f"{request.method} {request.path}") as action:
                result = self._call(callback, needs_auth, action, args, kwargs)
            if isinstance(result, bottle.BaseResponse):
                return result
            if isinstance(result, tuple):
                return json_response(*result)
            return json_response(result, 204 if result is None else status)

        return wrapper

    def _call(self, callback, needs_auth: bool, action, args, kwargs):
        """Run the route; turn every failure into its response."""
        try:
            if needs_auth:
                kwargs["me"] = self.auth.authenticate(bearer_token())
                if action is not None:
                    action["info"]["uid"] = kwargs["me"]
            return callback(*args, **kwargs)
        except ImdemoError as e:
            return from_service_error(e)
        except self.unavailable as e:
            log.warning("store unavailable: %s", e)
            return json_response(error_body("unavailable", "the service is busy; try again"), 503,
                                 {"Retry-After": "1"})
        except bottle.HTTPResponse:
            raise
        except Exception:
            log.exception("%s %s failed", bottle.request.method, bottle.request.path)
            return json_response(error_body("internal_error", "internal error"), 500)
