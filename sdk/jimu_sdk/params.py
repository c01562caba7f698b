"""Bounded parameter types for routes: ids and limits a plugin's API accepts.

Use ``RecordIdParam`` for ids in paths, ``RecordIdFilter`` for optional ids in queries and
``RecordId`` inside request structs: an id too large for the database column is refused with a
400 naming it, instead of failing in the database driver. Put constraints of path and query
parameters in ``Parameter(...)``: litestar ignores a ``msgspec.Meta`` on them (it applies only
inside structs).
"""

from typing import Annotated

import msgspec
from litestar.params import Parameter

MAX_RECORD_ID = 2**31 - 1
"""Ids are PostgreSQL ``integer``/``serial`` columns."""

RecordId = Annotated[int, msgspec.Meta(ge=1, le=MAX_RECORD_ID)]
RecordIdParam = Annotated[int, Parameter(ge=1, le=MAX_RECORD_ID)]
RecordIdFilter = Annotated[int | None, Parameter(ge=1, le=MAX_RECORD_ID)]

