"""Translate a request, call a handler, translate its answer or its domain error."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from aligned_common.app import dependency
from aligned_common.identity import Identity, current_identity
from aligned_common.problems import Problem, problem_responses
from aligned_example.adapters.repository import unit_of_work
from aligned_example.domain.model import UnknownBrand
from aligned_example.service_layer import handlers
from aligned_example.service_layer.deps import Deps

router = APIRouter(prefix="/v1/example")
Service = Annotated[Deps, Depends(dependency(Deps))]
Caller = Annotated[Identity, Depends(current_identity)]


class WelcomeOut(BaseModel):
    message: str


@router.get("/welcome", responses=problem_responses(404))
async def welcome(deps: Service, identity: Caller) -> WelcomeOut:
    try:
        async with unit_of_work(deps.database, identity.brand_id) as uow:
            message = await handlers.welcome(uow, identity.brand_id, deps.clock.now())
    except UnknownBrand:
        raise Problem(404, "Brand not found", detail="no brand_created has reached this service") from None
    return WelcomeOut(message=message)
