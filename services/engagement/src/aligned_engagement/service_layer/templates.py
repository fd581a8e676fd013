"""Response templates per brand: list, create, replace, delete."""

from __future__ import annotations

import uuid
from datetime import datetime

from aligned_engagement.domain.errors import DuplicateTemplate, Invalid, TemplateNotFound
from aligned_engagement.domain.templates import Template, unknown_variables
from aligned_engagement.service_layer.ports import UnitOfWork


def _checked(template: Template) -> Template:
    problems = [
        {"field": field, "message": f"unknown variables {names}; allowed: reviewer_name, brand, post_link"}
        for field, text in [("body", template.body)]
        + [(f"variants.{lang}", text) for lang, text in template.variants.items()]
        if (names := unknown_variables(text))
    ]
    if problems:
        raise Invalid("a template may only use the known variables", errors=problems)
    return template


async def create(
    uow: UnitOfWork, brand_id: uuid.UUID, name: str, body: str, variants: dict[str, str], now: datetime
) -> Template:
    template = _checked(Template(uuid.uuid4(), brand_id, name, body, variants, now))
    if not await uow.templates.add(template):
        raise DuplicateTemplate(f"the brand has a template named {name!r}")
    return template


async def replace(
    uow: UnitOfWork,
    brand_id: uuid.UUID,
    template_id: uuid.UUID,
    name: str,
    body: str,
    variants: dict[str, str],
    now: datetime,
) -> Template:
    if await uow.templates.get(template_id) is None:
        raise TemplateNotFound(f"no template {template_id}")
    template = _checked(Template(template_id, brand_id, name, body, variants, now))
    if not await uow.templates.replace(template):
        raise DuplicateTemplate(f"the brand has a template named {name!r}")
    return template


async def delete(uow: UnitOfWork, template_id: uuid.UUID) -> None:
    if not await uow.templates.delete(template_id):
        raise TemplateNotFound(f"no template {template_id}")


async def listed(uow: UnitOfWork) -> list[Template]:
    return await uow.templates.list()
