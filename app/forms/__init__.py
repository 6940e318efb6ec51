"""Editors' forms: submitted fields to the API's write schemas (`StageWrite`, `ExchangeWrite`,
`TermsWrite`, `OfficialTotalWrite`), and the schemas' errors back beside the fields they name.

The rules are the schemas': a form only reads its text as numbers, dates, lists and rows, and
words the schemas' messages for editors (the same English, translated through the catalogue).
Warnings (over target, an odd date, a count far from the others) are shown but do not block.
"""

from app.forms.common import (
    COUNTS,
    MAX_ROWS,
    SLUG_TAKEN,
    Message,
    SimpleForm,
    location_error,
    schema_errors,
    worded,
)
from app.forms.exchanges import (
    ExchangeForm,
    TermsForm,
    TotalForm,
    blank_exchange_form,
    blank_terms_form,
    blank_total_form,
    exchange_field,
    exchange_form_from,
    parse_exchange_form,
    parse_new_exchange_form,
    parse_terms_form,
    parse_total_form,
    terms_field,
    total_field,
)
from app.forms.stages import (
    NOT_CONFIRMED,
    Caution,
    StageForm,
    blank_stage_form,
    parse_stage_form,
    stage_field,
    stage_form_from,
    warnings,
)

__all__ = [
    "COUNTS", "MAX_ROWS", "NOT_CONFIRMED", "SLUG_TAKEN", "Caution", "ExchangeForm", "Message",
    "SimpleForm", "StageForm",
    "TermsForm", "TotalForm", "blank_exchange_form", "blank_stage_form", "blank_terms_form",
    "blank_total_form", "exchange_field", "exchange_form_from", "location_error",
    "parse_exchange_form", "parse_new_exchange_form", "parse_stage_form", "parse_terms_form",
    "parse_total_form", "schema_errors", "stage_field", "stage_form_from", "terms_field",
    "total_field", "warnings", "worded",
]  # fmt: skip
