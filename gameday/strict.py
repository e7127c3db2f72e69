"""The base of every configuration model (unknown keys are errors, values are frozen), and the
error a whole-model check raises to name the one field at fault."""

from pydantic import BaseModel, ConfigDict
from pydantic_core import PydanticCustomError

__all__ = ["FIELD_ERROR", "RELATIVE_FIELD_ERROR", "Strict", "field_error",
           "relative_field_error"]

FIELD_ERROR = "gameday_field"
RELATIVE_FIELD_ERROR = "gameday_relative_field"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def field_error(field: str, message: str) -> PydanticCustomError:
    """An error of a whole-suite check that still names the one field at fault."""
    return PydanticCustomError(FIELD_ERROR, "{message}", {"field": field, "message": message})


def relative_field_error(field: str, message: str) -> PydanticCustomError:
    """The same, for a model that may sit anywhere (an OpenSLO object in a suite or a file):
    ``field`` is under the model, and the error's location is put before it."""
    return PydanticCustomError(RELATIVE_FIELD_ERROR, "{message}",
                               {"field": field, "message": message})
