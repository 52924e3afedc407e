"""Schemathesis hooks for the gateway's OpenAPI document (see .ci/schemathesis.sh).

- Every generated request carries `Authorization: Bearer <token>`: the administrator signs in
  with `POST /v1/auth/login` (CRM_ADMIN_PASSWORD), again after a 401 and before the token
  expires.
- The run must not lock itself out: no generated request names the administrator (their id,
  login or role) in its path or as a sign-in login, so none resets their password, deactivates
  them, changes their roles or spends their five password guesses; ChangePassword, whose
  current password is a guess at the signed-in account's, is sent without a token.
"""

import os

import requests
import schemathesis

GATEWAY_URL = os.environ.get("GATEWAY_URL", "http://127.0.0.1:8080")
ADMIN_LOGIN = "admin"
# The administrator's employee id, learnt at sign-in.
ADMIN = {"id": None}
SENT_WITHOUT_TOKEN = {"/v1/me:changePassword"}
STAND_IN = "not-the-administrator"


# Access tokens live 15 minutes; a run is far shorter, but sign in again well before that.
@schemathesis.auth(refresh_interval=600)
class AdministratorToken:
    def get(self, case, context):
        response = requests.post(
            f"{GATEWAY_URL}/v1/auth/login",
            json={"login": ADMIN_LOGIN, "password": os.environ["CRM_ADMIN_PASSWORD"]},
            timeout=30,
        )
        response.raise_for_status()
        signed_in = response.json()
        ADMIN["id"] = signed_in["employee"]["id"]
        return signed_in["tokens"]["accessToken"]

    def set(self, case, data, context):
        case.headers = case.headers or {}
        if context.operation.path in SENT_WITHOUT_TOKEN:
            case.headers.pop("Authorization", None)
        else:
            case.headers["Authorization"] = f"Bearer {data}"


def _is_administrator(value):
    return isinstance(value, str) and value in {ADMIN["id"], ADMIN_LOGIN}


@schemathesis.hook
def before_call(context, case, kwargs):
    for name, value in list((case.path_parameters or {}).items()):
        if _is_administrator(value):
            case.path_parameters[name] = STAND_IN
    if case.operation.path == "/v1/auth/login" and isinstance(case.body, dict):
        if _is_administrator(case.body.get("login")):
            case.body["login"] = STAND_IN
    if case.operation.path in SENT_WITHOUT_TOKEN and case.headers:
        case.headers.pop("Authorization", None)
