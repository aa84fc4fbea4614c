"""Administration: users and their keys, config reload."""

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Response
from pydantic import BaseModel, ConfigDict, Field

from marine_watch.alerts.book import AuditEntry
from marine_watch.api import answers
from marine_watch.api.deps import ServicesDep
from marine_watch.api.security import Admin, keyring_of
from marine_watch.auth.keys import Role
from marine_watch.errors import ConfigError

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])
UserName = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.@\-]{1,64}$")]


class UserIn(BaseModel):
    """A new user: the key is generated and returned once."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=r"^[A-Za-z0-9_.@\-]{1,64}$")
    role: Role


@router.get("/users", response_model=list[answers.User])
async def users(services: ServicesDep, _who: Admin) -> list[dict[str, str]]:
    """Known users and roles (never keys or hashes)."""
    return keyring_of(services).users()


@router.post("/users", status_code=201, response_model=answers.NewUser)
async def add_user(body: UserIn, services: ServicesDep, who: Admin) -> dict[str, str]:
    """Create or re-key a user; the key in the answer is not stored and cannot be shown again."""
    key = await keyring_of(services).add_user(body.name, body.role)
    await _audit(services, who.name, "user_added", body.name, body.role.value)
    return {"name": body.name, "role": body.role.value, "key": key}


@router.delete("/users/{name}", status_code=204, response_class=Response)
async def remove_user(name: UserName, services: ServicesDep, who: Admin) -> Response:
    """Revoke a user made through this API (config users are revoked in config)."""
    if not await keyring_of(services).remove_user(name):
        raise HTTPException(404, f"no user {name!r} made through the API")
    await _audit(services, who.name, "user_removed", name, "")
    return Response(status_code=204)


@router.post("/reload", response_model=answers.Reloaded)
async def reload(services: ServicesDep, who: Admin) -> dict[str, object]:
    """Re-read config/roles.toml and the configured keys (422, keys unchanged, if the file is wrong)."""
    try:
        known = keyring_of(services).reload()
    except ConfigError as exc:
        raise HTTPException(422, str(exc)) from None
    await _audit(services, who.name, "config_reloaded", "roles", f"{known} keys")
    return {"reloaded": ["roles"], "keys": known}


async def _audit(services: ServicesDep, actor: str, action: str, subject: str, detail: str) -> None:
    entry = AuditEntry(services.clock.now(), f"admin:{actor}", action, subject, None, detail)
    await services.full.alerts.store.audit(entry)
