"""Translate a request, call a handler, translate its answer; the app maps domain errors."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from aligned_common.app import dependency
from aligned_common.identity import Identity, current_identity
from aligned_common.problems import problem_responses
from aligned_example.service_layer import handlers
from aligned_example.service_layer.deps import Deps

router = APIRouter(prefix="/v1/example")
Service = Annotated[Deps, Depends(dependency(Deps))]
Caller = Annotated[Identity, Depends(current_identity)]


class WelcomeOut(BaseModel):
    message: str


@router.get("/welcome", responses=problem_responses(404))
async def welcome(deps: Service, identity: Caller) -> WelcomeOut:
    async with deps.uow(identity.brand_id) as uow:
        return WelcomeOut(message=await handlers.welcome(uow, identity.brand_id, deps.clock.now()))
