"""Shared dependencies and their Annotated aliases."""

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session

from app.db import iter_session


def get_session(request: Request) -> Iterator[Session]:
    yield from iter_session(request.app.state.engine)


SessionDep = Annotated[Session, Depends(get_session)]
