"""The base of every configuration model (unknown keys are errors, values are frozen), and the
error a whole-model check raises to name the one field at fault."""

from pydantic import BaseModel, ConfigDict
from pydantic_core import PydanticCustomError

__all__ = ["FIELD_ERROR", "Strict", "field_error"]

FIELD_ERROR = "gameday_field"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def field_error(field: str, message: str) -> PydanticCustomError:
    """An error of a whole-suite check that still names the one field at fault."""
    return PydanticCustomError(FIELD_ERROR, "{message}", {"field": field, "message": message})
