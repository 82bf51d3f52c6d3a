"""Token authentication for machines: `Authorization: Bearer <token>`."""

from __future__ import annotations

from ninja.security import HttpBearer


class TokenAuth(HttpBearer):
    def authenticate(self, request, token: str):
        from urbangrid.core.models import ApiToken

        user = ApiToken.user_for(token)
        if user is not None:
            request.user = user
        return user
