"""One router per resource; ROUTERS is what create_app mounts."""

from fastapi import APIRouter

ROUTERS: list[APIRouter] = []
