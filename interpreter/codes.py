"""Every diagnostic and error code the package emits, defined once (modelled on mypy's ``errorcodes.py``).

A code is a member of ``Code``, a ``StrEnum``: ``Code.YAML_TOO_DEEP == "yaml-too-deep"``, so a code written as
``Code.X`` prints, compares and serialises (JSON) exactly like its kebab-case text. ``CODES`` gives each its
``CodeInfo``: the stage that reports it, its default severity and a one-line summary. The table is complete
(``tests/test_codes.py`` checks it), and derived from it are the index of ``docs/diagnostics.md``
(``tools/gen_diagnostics_index.py``) and the lists of the completeness tests (a fixture per load-time code, a
conformance case per expression and fact code, a section per code in the docs, and every code the source uses
is registered and every registered code is used).

Layer L0: this module imports nothing from the package.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final, Literal

__all__ = ["CODES", "Code", "CodeInfo", "Stage", "codes_of"]


class Stage(StrEnum):
    """Where a code is reported, in pipeline order. A code used by several stages is listed by its first."""

    YAML = "yaml"  # reading the file: syntax, encoding, size and depth
    SCHEMA = "schema"  # the shape of the document (the JSON Schema)
    STRUCTURE = "structure"  # the decision tree, ids, references and the lifecycle
    INPUTS = "inputs"  # units and ranges of inputs, derived values
    DOSES = "doses"  # dose definitions, checked at load
    THRESHOLDS = "thresholds"  # the thresholds of a choice's branches
    EXPRESSION = "expression"  # an expression: compiled at load, or failing at run time
    UNITS = "units"  # the UCUM unit library
    LOCK = "lock"  # approved content and the lock file
    VALIDATOR = "validator"  # the validation driver: paths, files, the bound on diagnostics
    LIBRARY = "library"  # finding and loading a guideline for use
    FACTS = "facts"  # a patient's facts
    EVALUATION = "evaluation"  # applying a guideline: the as-of time, the walk, doses
    CLI = "cli"  # the command line's usage
    TEST_FILE = "test-file"  # `guideline test` files


#: The default severity of a code (the values of ``errors.Severity``).
SeverityName = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class CodeInfo:
    """What a code means. ``internal``: a guard against a bug of the interpreter or of the host's code, never
    caused by a guideline and facts alone (exit 3)."""

    stage: Stage
    severity: SeverityName
    summary: str
    internal: bool = False


class Code(StrEnum):
    # yaml
    YAML_SYNTAX = "yaml-syntax"
    YAML_DUPLICATE_KEY = "yaml-duplicate-key"
    YAML_ANCHOR = "yaml-anchor"
    YAML_NON_FINITE = "yaml-non-finite"
    YAML_ENCODING = "yaml-encoding"
    YAML_EMPTY = "yaml-empty"
    YAML_MULTIPLE_DOCUMENTS = "yaml-multiple-documents"
    YAML_TOO_LARGE = "yaml-too-large"
    YAML_TOO_DEEP = "yaml-too-deep"
    YAML_COMPLEX_KEY = "yaml-complex-key"
    YAML_TAG = "yaml-tag"
    YAML_COMMENT_IN_EXPRESSION = "yaml-comment-in-expression"
    # schema
    SCHEMA_UNKNOWN_KEY = "schema-unknown-key"
    SCHEMA_REQUIRED = "schema-required"
    SCHEMA_TYPE = "schema-type"
    SCHEMA_ENUM = "schema-enum"
    SCHEMA_PATTERN = "schema-pattern"
    SCHEMA_KEY_NOT_ALLOWED = "schema-key-not-allowed"
    SCHEMA_RANGE = "schema-range"
    SCHEMA_INVALID = "schema-invalid"
    # structure
    DUPLICATE_ID = "duplicate-id"
    RESERVED_ID = "reserved-id"
    UNKNOWN_TARGET = "unknown-target"
    UNKNOWN_CITATION = "unknown-citation"
    CYCLE = "cycle"
    UNREACHABLE_NODE = "unreachable-node"
    CHOICE_MISSING_OTHERWISE = "choice-missing-otherwise"
    CHOICE_MISSING_UNKNOWN = "choice-missing-unknown"
    LIFECYCLE_APPROVED_NEEDS_REVIEWERS = "lifecycle-approved-needs-reviewers"
    LIFECYCLE_APPROVED_NEEDS_APPROVAL_DATE = "lifecycle-approved-needs-approval-date"
    LIFECYCLE_DATES = "lifecycle-dates"
    INVALID_DATE = "invalid-date"
    UNUSED_INPUT = "unused-input"
    RECOMMENDATION_TITLE_LONG = "recommendation-title-long"
    # inputs
    INPUT_UNIT_UNKNOWN = "input-unit-unknown"
    INPUT_UNIT_INCOMPATIBLE = "input-unit-incompatible"
    INPUT_PLAUSIBLE_RANGE = "input-plausible-range"
    INPUT_DEFAULT_REQUIRED = "input-default-required"
    INPUT_DEFAULT_INVALID = "input-default-invalid"
    DERIVED_CYCLE = "derived-cycle"
    # scores
    SCORE_UNKNOWN_INPUT = "score-unknown-input"
    SCORE_ITEM_TYPE = "score-item-type"
    SCORE_UNKNOWN_CODE = "score-unknown-code"
    SCORE_NAME_TAKEN = "score-name-taken"
    SCORE_TOO_LARGE = "score-too-large"
    # doses
    DOSE_UNKNOWN_BASIS = "dose-unknown-basis"
    DOSE_BASIS_NOT_QUANTITY = "dose-basis-not-quantity"
    DOSE_UNIT_MISMATCH = "dose-unit-mismatch"
    DOSE_UNIT_UNKNOWN = "dose-unit-unknown"
    DOSE_LIMITS = "dose-limits"
    DOSE_NUMBER_RANGE = "dose-number-range"
    # thresholds
    THRESHOLD_GAP = "threshold-gap"
    THRESHOLD_OVERLAP = "threshold-overlap"
    THRESHOLD_IMPOSSIBLE = "threshold-impossible"
    THRESHOLD_IMPLAUSIBLE = "threshold-implausible"
    CONDITION_CONSTANT = "condition-constant"
    CHAINED_EQUALITY = "chained-equality"
    # expression
    EXPR_SYNTAX = "expr-syntax"
    EXPR_NOT_ALLOWED = "expr-not-allowed"
    EXPR_TOO_LONG = "expr-too-long"
    EXPR_TOO_DEEP = "expr-too-deep"
    EXPR_BAD_NUMBER = "expr-bad-number"
    EXPR_UNKNOWN_NAME = "expr-unknown-name"
    EXPR_UNKNOWN_FUNCTION = "expr-unknown-function"
    EXPR_ARITY = "expr-arity"
    EXPR_TYPE = "expr-type"
    EXPR_UNKNOWN_CODE = "expr-unknown-code"
    EXPR_UNIT_MISMATCH = "expr-unit-mismatch"
    EXPR_UNKNOWN_UNIT = "expr-unknown-unit"
    EXPR_INEXACT_CONVERSION = "expr-inexact-conversion"
    EXPR_EXPECTED_BOOLEAN = "expr-expected-boolean"
    EXPR_DIVISION_BY_ZERO = "expr-division-by-zero"
    EXPR_OVERFLOW = "expr-overflow"
    EXPR_INVALID_OPERATION = "expr-invalid-operation"
    EXPR_MISSING_VALUE = "expr-missing-value"
    EXPR_BAD_VALUE = "expr-bad-value"
    # units
    UNIT_UNKNOWN = "unit-unknown"
    UNIT_INCOMPATIBLE = "unit-incompatible"
    UNIT_NOT_MULTIPLICATIVE = "unit-not-multiplicative"
    UNIT_INEXACT = "unit-inexact"
    UNIT_LIBRARY_FAILED = "unit-library-failed"
    # lock
    APPROVED_CONTENT_CHANGED = "approved-content-changed"
    APPROVED_NOT_LOCKED = "approved-not-locked"
    LOCK_INVALID = "lock-invalid"
    LOCK_UNREADABLE = "lock-unreadable"
    LOCK_CONFLICT = "lock-conflict"
    # validator
    PATH_NOT_FOUND = "path-not-found"
    NO_GUIDELINE_FILES = "no-guideline-files"
    FILE_UNREADABLE = "file-unreadable"
    FILE_NOT_A_GUIDELINE = "file-not-a-guideline"
    TOO_MANY_DIAGNOSTICS = "too-many-diagnostics"
    INTERNAL_ERROR = "internal-error"
    # library
    GUIDELINE_NOT_FOUND = "guideline-not-found"
    GUIDELINE_REF_INVALID = "guideline-ref-invalid"
    GUIDELINE_REF_AMBIGUOUS = "guideline-ref-ambiguous"
    GUIDELINE_RETIRED = "guideline-retired"
    GUIDELINE_VERSION_MISMATCH = "guideline-version-mismatch"
    LOAD_FAILED = "load-failed"
    # facts
    FACT_WRONG_TYPE = "fact-wrong-type"
    FACT_NOT_FINITE = "fact-not-finite"
    FACT_TOO_PRECISE = "fact-too-precise"
    FACT_UNKNOWN_UNIT = "fact-unknown-unit"
    FACT_UNIT_MISMATCH = "fact-unit-mismatch"
    FACT_MISSING_UNIT = "fact-missing-unit"
    FACT_IMPLAUSIBLE = "fact-implausible"
    FACT_UNKNOWN_CODE = "fact-unknown-code"
    FACT_BAD_TIME = "fact-bad-time"
    FACT_FUTURE = "fact-future"
    FACT_MALFORMED = "fact-malformed"
    FACT_TOO_LARGE = "fact-too-large"
    FACT_TOO_MANY_ERRORS = "fact-too-many-errors"
    FACT_ENCODING = "fact-encoding"
    FACT_DUPLICATE_KEY = "fact-duplicate-key"
    # evaluation
    GUIDELINE_NOT_EFFECTIVE = "guideline-not-effective"
    EVAL_NAIVE_TIME = "eval-naive-time"
    EVAL_BAD_TIME = "eval-bad-time"
    EVAL_BAD_TIME_ZONE = "eval-bad-time-zone"
    EVAL_STEP_LIMIT = "eval-step-limit"
    EVAL_NOT_BOOLEAN = "eval-not-boolean"
    DOSE_ARITHMETIC = "dose-arithmetic"
    DOSE_OUT_OF_RANGE = "dose-out-of-range"
    DOSE_NOT_POSITIVE = "dose-not-positive"
    # cli
    USAGE_ERROR = "usage-error"
    BATCH_ROW_INVALID = "batch-row-invalid"
    # test files
    TEST_DUPLICATE_NAME = "test-duplicate-name"
    TEST_UNKNOWN_FACT = "test-unknown-fact"
    TEST_UNKNOWN_ID = "test-unknown-id"
    # FHIR bindings (issue 10)
    INPUT_FHIR_BINDING = "input-fhir-binding"
    # precedence between recommendations (structure)
    SUPERSEDES_UNKNOWN = "supersedes-unknown"
    SUPERSEDES_CYCLE = "supersedes-cycle"
    RECOMMENDATION_CONFLICT = "recommendation-conflict"
    # values repeated in a list that is a set in meaning (structure; issue 8, finding 13)
    DUPLICATE_VALUE = "duplicate-value"


def _error(stage: Stage, summary: str, *, internal: bool = False) -> CodeInfo:
    return CodeInfo(stage, "error", summary, internal)


def _warning(stage: Stage, summary: str) -> CodeInfo:
    return CodeInfo(stage, "warning", summary)


#: Every code's stage, default severity and summary; complete (one entry per member of ``Code``).
CODES: Final[Mapping[Code, CodeInfo]] = MappingProxyType({
    # -- yaml
    Code.YAML_SYNTAX: _error(Stage.YAML, "the file is not valid YAML"),
    Code.YAML_DUPLICATE_KEY: _error(Stage.YAML, "a key appears twice in one mapping"),
    Code.YAML_ANCHOR: _error(Stage.YAML, "an anchor or alias (merge keys included)"),
    Code.YAML_NON_FINITE: _error(Stage.YAML, "`.nan` or `.inf` where a number is expected"),
    Code.YAML_ENCODING: _error(Stage.YAML, "the file is not UTF-8"),
    Code.YAML_EMPTY: _error(Stage.YAML, "the file holds no document"),
    Code.YAML_MULTIPLE_DOCUMENTS: _error(Stage.YAML, "the file holds more than one YAML document"),
    Code.YAML_TOO_LARGE: _error(Stage.YAML, "the file is larger than the size limit"),
    Code.YAML_TOO_DEEP: _error(Stage.YAML, "the document nests deeper than the depth limit"),
    Code.YAML_COMPLEX_KEY: _error(Stage.YAML, "a key that is not plain text (a list, a mapping, a `?` key)"),
    Code.YAML_TAG: _error(Stage.YAML, "an explicit YAML tag (`!!python/object`, `!custom`)"),
    Code.YAML_COMMENT_IN_EXPRESSION: _error(Stage.YAML, "a `#` comment cut an unquoted expression short"),
    # -- schema
    Code.SCHEMA_UNKNOWN_KEY: _error(Stage.SCHEMA, "a key the schema does not know"),
    Code.SCHEMA_REQUIRED: _error(Stage.SCHEMA, "a required key is missing"),
    Code.SCHEMA_TYPE: _error(Stage.SCHEMA, "a value has the wrong type"),
    Code.SCHEMA_ENUM: _error(Stage.SCHEMA, "a value is not one of the allowed choices"),
    Code.SCHEMA_PATTERN: _error(Stage.SCHEMA, "a text does not have the required form"),
    Code.SCHEMA_KEY_NOT_ALLOWED: _error(Stage.SCHEMA, "a key is not allowed in this kind of entry"),
    Code.SCHEMA_RANGE: _error(Stage.SCHEMA, "a number, text or list is too small or too large"),
    Code.SCHEMA_INVALID: _error(Stage.SCHEMA, "any other schema violation"),
    # -- structure
    Code.DUPLICATE_ID: _error(Stage.STRUCTURE, "two nodes or recommendations have the same id"),
    Code.RESERVED_ID: _error(Stage.STRUCTURE, "a node or recommendation is called `cannot-decide`"),
    Code.UNKNOWN_TARGET: _error(Stage.STRUCTURE, "a branch points to no node or recommendation"),
    Code.UNKNOWN_CITATION: _error(Stage.STRUCTURE, "a citation names no source"),
    Code.CYCLE: _error(Stage.STRUCTURE, "nodes form a cycle"),
    Code.UNREACHABLE_NODE: _error(Stage.STRUCTURE, "a node or recommendation is never reached"),
    Code.CHOICE_MISSING_OTHERWISE: _error(Stage.STRUCTURE, "a choice has no `otherwise`"),
    Code.CHOICE_MISSING_UNKNOWN: _error(Stage.STRUCTURE, "a choice has no `unknown`"),
    Code.LIFECYCLE_APPROVED_NEEDS_REVIEWERS: _error(Stage.STRUCTURE, "approved, but names no reviewer"),
    Code.LIFECYCLE_APPROVED_NEEDS_APPROVAL_DATE: _error(
        Stage.STRUCTURE, "approved, but has no approval date"),
    Code.LIFECYCLE_DATES: _error(Stage.STRUCTURE, "the lifecycle dates are out of order"),
    Code.INVALID_DATE: _error(Stage.STRUCTURE, "a date has the form YYYY-MM-DD but is no real day"),
    Code.UNUSED_INPUT: _warning(Stage.STRUCTURE, "an input is read by no condition, derived value or dose"),
    Code.RECOMMENDATION_TITLE_LONG: _warning(
        Stage.STRUCTURE, "a recommendation title does not fit a one-line summary (CDS Hooks card)"),
    # -- inputs
    Code.INPUT_UNIT_UNKNOWN: _error(Stage.INPUTS, "an input's unit is not a UCUM code"),
    Code.INPUT_UNIT_INCOMPATIBLE: _error(Stage.INPUTS, "an accepted unit measures something else"),
    Code.INPUT_PLAUSIBLE_RANGE: _error(Stage.INPUTS, "an input's plausible `min` is above its `max`"),
    Code.INPUT_DEFAULT_REQUIRED: _error(Stage.INPUTS, "a required input has a `default:`"),
    Code.INPUT_DEFAULT_INVALID: _error(
        Stage.INPUTS, "an input's `default:` is not a value the input accepts (type, range, list)"
    ),
    Code.DERIVED_CYCLE: _error(Stage.INPUTS, "derived values depend on each other in a circle"),
    # -- scores
    Code.SCORE_UNKNOWN_INPUT: _error(Stage.INPUTS, "a score item names no declared input"),
    Code.SCORE_ITEM_TYPE: _error(Stage.INPUTS, "a score item's points do not fit its input's type"),
    Code.SCORE_UNKNOWN_CODE: _error(Stage.INPUTS, "a score item gives points to a word the input lacks"),
    Code.SCORE_NAME_TAKEN: _error(Stage.INPUTS, "a score has the name of an input or derived value"),
    Code.SCORE_TOO_LARGE: _error(Stage.INPUTS, "too many scores, or too many items, bands or words in one"),
    # -- doses
    Code.DOSE_UNKNOWN_BASIS: _error(Stage.DOSES, "a dose's basis names no input or derived value"),
    Code.DOSE_BASIS_NOT_QUANTITY: _error(Stage.DOSES, "a dose's basis is not a quantity"),
    Code.DOSE_UNIT_MISMATCH: _error(Stage.DOSES, "a dose's unit does not fit its basis"),
    Code.DOSE_UNIT_UNKNOWN: _error(Stage.DOSES, "a fixed dose is in a unit UCUM does not know"),
    Code.DOSE_LIMITS: _error(Stage.DOSES, "a dose's limits contradict each other"),
    Code.DOSE_NUMBER_RANGE: _error(Stage.DOSES, "a dose or plausible number is out of range"),
    # -- thresholds
    Code.THRESHOLD_GAP: _warning(Stage.THRESHOLDS, "a choice's thresholds leave values no branch takes"),
    Code.THRESHOLD_OVERLAP: _warning(Stage.THRESHOLDS, "a choice's thresholds overlap"),
    Code.THRESHOLD_IMPOSSIBLE: _error(Stage.THRESHOLDS, "a condition no value can satisfy"),
    Code.THRESHOLD_IMPLAUSIBLE: _error(
        Stage.THRESHOLDS, "a threshold is outside the plausible range of the input it is compared with"),
    Code.CONDITION_CONSTANT: _error(Stage.THRESHOLDS, "a condition is always true or always false"),
    Code.CHAINED_EQUALITY: _error(Stage.THRESHOLDS, "a chained comparison mixes `==` and `!=`"),
    # -- expression
    Code.EXPR_SYNTAX: _error(Stage.EXPRESSION, "an expression is not valid syntax"),
    Code.EXPR_NOT_ALLOWED: _error(Stage.EXPRESSION, "a construct the expression language does not allow"),
    Code.EXPR_TOO_LONG: _error(Stage.EXPRESSION, "an expression is longer than the length limit"),
    Code.EXPR_TOO_DEEP: _error(Stage.EXPRESSION, "an expression nests deeper than the depth limit"),
    Code.EXPR_BAD_NUMBER: _error(Stage.EXPRESSION, "a number in an expression is malformed or out of range"),
    Code.EXPR_UNKNOWN_NAME: _error(Stage.EXPRESSION, "a name is no input or derived value"),
    Code.EXPR_UNKNOWN_FUNCTION: _error(Stage.EXPRESSION, "a call names no function"),
    Code.EXPR_ARITY: _error(Stage.EXPRESSION, "a function is called with the wrong number of arguments"),
    Code.EXPR_TYPE: _error(Stage.EXPRESSION, "an operand or argument has the wrong type"),
    Code.EXPR_UNKNOWN_CODE: _error(Stage.EXPRESSION, "a code is not one of the input's values"),
    Code.EXPR_UNIT_MISMATCH: _error(Stage.EXPRESSION, "quantities of different dimensions are combined"),
    Code.EXPR_UNKNOWN_UNIT: _error(Stage.EXPRESSION, "a unit in an expression is not a UCUM code"),
    Code.EXPR_INEXACT_CONVERSION: _error(Stage.EXPRESSION, "a unit conversion has no exact decimal factor"),
    Code.EXPR_EXPECTED_BOOLEAN: _error(Stage.EXPRESSION, "a condition is not true or false"),
    Code.EXPR_DIVISION_BY_ZERO: _error(Stage.EXPRESSION, "run time: a division by zero"),
    Code.EXPR_OVERFLOW: _error(Stage.EXPRESSION, "run time: a number too large or too small"),
    Code.EXPR_INVALID_OPERATION: _error(Stage.EXPRESSION, "run time: an operation with no result"),
    Code.EXPR_MISSING_VALUE: _error(
        Stage.EXPRESSION, "the host passed no value for a name the expression uses", internal=True),
    Code.EXPR_BAD_VALUE: _error(
        Stage.EXPRESSION, "the host passed a value of the wrong type", internal=True),
    # -- units
    Code.UNIT_UNKNOWN: _error(Stage.UNITS, "not a UCUM code"),
    Code.UNIT_INCOMPATIBLE: _error(Stage.UNITS, "units of different dimensions"),
    Code.UNIT_NOT_MULTIPLICATIVE: _error(Stage.UNITS, "an offset or logarithmic unit"),
    Code.UNIT_INEXACT: _error(Stage.UNITS, "a conversion factor has no finite decimal expansion"),
    Code.UNIT_LIBRARY_FAILED: _error(Stage.UNITS, "the UCUM unit library failed"),
    # -- lock
    Code.APPROVED_CONTENT_CHANGED: _error(Stage.LOCK, "approved content differs from its lock entry"),
    Code.APPROVED_NOT_LOCKED: _error(
        Stage.LOCK, "an approved guideline has no lock entry (a warning when there is no lock file)"),
    Code.LOCK_INVALID: _error(Stage.LOCK, "the lock file is malformed"),
    Code.LOCK_UNREADABLE: _error(Stage.LOCK, "the lock file cannot be read"),
    Code.LOCK_CONFLICT: _error(Stage.LOCK, "lock files that apply to a guideline disagree"),
    # -- validator
    Code.PATH_NOT_FOUND: _error(Stage.VALIDATOR, "a path does not exist"),
    Code.NO_GUIDELINE_FILES: _error(Stage.VALIDATOR, "a folder holds no guideline file"),
    Code.FILE_UNREADABLE: _error(Stage.VALIDATOR, "a file cannot be read, or is no regular file"),
    Code.FILE_NOT_A_GUIDELINE: _error(Stage.VALIDATOR, "a file not named `*.yaml` is not a valid guideline"),
    Code.TOO_MANY_DIAGNOSTICS: _error(Stage.VALIDATOR, "a file has more problems than are listed"),
    Code.INTERNAL_ERROR: _error(Stage.VALIDATOR, "a stage raised an exception: a bug", internal=True),
    # -- library
    Code.GUIDELINE_NOT_FOUND: _error(Stage.LIBRARY, "no bundled guideline has that id or version"),
    Code.GUIDELINE_REF_INVALID: _error(Stage.LIBRARY, "a reference is neither a guideline id nor a path"),
    Code.GUIDELINE_REF_AMBIGUOUS: _error(Stage.LIBRARY, "a bare id is also a file in the current folder"),
    Code.GUIDELINE_RETIRED: _error(Stage.LIBRARY, "the guideline is retired"),
    Code.GUIDELINE_VERSION_MISMATCH: _error(Stage.LIBRARY, "the file holds another version than pinned"),
    Code.LOAD_FAILED: _error(
        Stage.LIBRARY, "the pipeline produced no guideline without saying why", internal=True),
    # -- facts
    Code.FACT_WRONG_TYPE: _error(Stage.FACTS, "a fact has the wrong type"),
    Code.FACT_NOT_FINITE: _error(Stage.FACTS, "a fact's number is not finite"),
    Code.FACT_TOO_PRECISE: _error(Stage.FACTS, "a fact's number has too many digits"),
    Code.FACT_UNKNOWN_UNIT: _error(Stage.FACTS, "a fact's unit is not a UCUM code"),
    Code.FACT_UNIT_MISMATCH: _error(Stage.FACTS, "a fact's unit is not one the input accepts"),
    Code.FACT_MISSING_UNIT: _error(Stage.FACTS, "a quantity fact has no unit"),
    Code.FACT_IMPLAUSIBLE: _error(Stage.FACTS, "a fact is outside the input's plausible range"),
    Code.FACT_UNKNOWN_CODE: _error(Stage.FACTS, "a fact's code is not one of the input's values"),
    Code.FACT_BAD_TIME: _error(Stage.FACTS, "a fact's time is malformed or out of range"),
    Code.FACT_FUTURE: _error(Stage.FACTS, "a measurement time is after the as-of time"),
    Code.FACT_MALFORMED: _error(Stage.FACTS, "a fact object has unknown keys or lacks its value"),
    Code.FACT_TOO_LARGE: _error(Stage.FACTS, "the facts are larger than the limits"),
    Code.FACT_TOO_MANY_ERRORS: _error(Stage.FACTS, "more fact errors than are listed"),
    Code.FACT_ENCODING: _error(Stage.FACTS, "the facts are not UTF-8 JSON text"),
    Code.FACT_DUPLICATE_KEY: _error(Stage.FACTS, "a key appears twice in one JSON object"),
    # -- evaluation
    Code.GUIDELINE_NOT_EFFECTIVE: _error(Stage.EVALUATION, "the as-of time is outside the effective period"),
    Code.EVAL_NAIVE_TIME: _error(Stage.EVALUATION, "the as-of time has no time zone offset"),
    Code.EVAL_BAD_TIME: _error(Stage.EVALUATION, "the as-of time is not a usable datetime"),
    Code.EVAL_BAD_TIME_ZONE: _error(Stage.EVALUATION, "the time zone is unknown or fails"),
    Code.EVAL_STEP_LIMIT: _error(Stage.EVALUATION, "a walk would visit more nodes than the step limit"),
    Code.EVAL_NOT_BOOLEAN: _error(Stage.EVALUATION, "a condition gave a non-boolean: a bug", internal=True),
    Code.DOSE_ARITHMETIC: _error(Stage.EVALUATION, "a dose could not be computed"),
    Code.DOSE_OUT_OF_RANGE: _error(Stage.EVALUATION, "a computed dose number is beyond the number limits"),
    Code.DOSE_NOT_POSITIVE: _error(Stage.EVALUATION, "a dose came out as zero or less"),
    # -- cli
    Code.USAGE_ERROR: _error(Stage.CLI, "the command line is wrong"),
    Code.BATCH_ROW_INVALID: _error(Stage.CLI, "a batch input row lacks its id or facts, or has a bad as_of"),
    # -- test files
    Code.TEST_DUPLICATE_NAME: _error(Stage.TEST_FILE, "two cases of one test file have the same name"),
    Code.TEST_UNKNOWN_FACT: _error(Stage.TEST_FILE, "a case names a fact the guideline does not declare"),
    Code.TEST_UNKNOWN_ID: _error(
        Stage.TEST_FILE, "a case expects a recommendation, node or error code that does not exist"),
    # -- FHIR bindings
    Code.INPUT_FHIR_BINDING: _error(Stage.INPUTS, "an input's `fhir:` binding does not fit its type"),
    # -- precedence between recommendations
    Code.SUPERSEDES_UNKNOWN: _error(Stage.STRUCTURE, "`supersedes` names no recommendation"),
    Code.SUPERSEDES_CYCLE: _error(Stage.STRUCTURE, "recommendations supersede each other in a cycle"),
    Code.RECOMMENDATION_CONFLICT: _warning(
        Stage.STRUCTURE, "recommendations that can apply together conflict, and no precedence is declared"),
    # -- values repeated where each counts once
    Code.DUPLICATE_VALUE: _warning(
        Stage.STRUCTURE, "a value is written twice in an `in` list, any_of/all_of, supersedes or a default"),
})


def codes_of(*stages: Stage) -> tuple[Code, ...]:
    """The codes of these stages, in ``Code`` order."""
    return tuple(c for c in Code if CODES[c].stage in stages)
