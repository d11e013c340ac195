"""JSON Schemas of what the service reads and answers (CDS Hooks 2.0): the hook request, the feedback
request, and the answers. They are the OpenAPI document's schemas and the checks the service runs (with
jsonschema, a core dependency): one writing of each."""

from __future__ import annotations

from typing import Any

__all__ = [
    "CARDS_RESPONSE",
    "DISCOVERY_RESPONSE",
    "FEEDBACK_REQUEST",
    "FEEDBACK_RESPONSE",
    "HOOK_REQUEST",
    "OPERATION_OUTCOME",
]

_STR = {"type": "string", "minLength": 1, "maxLength": 1024}
_FHIR_ID = {"type": "string", "pattern": r"^[A-Za-z0-9\-.]{1,64}$"}
CODING = {
    "type": "object",
    "properties": {
        "system": {"type": "string", "maxLength": 1024},
        "code": {"type": "string", "maxLength": 256},
        "display": {"type": "string", "maxLength": 1024},
    },
    "required": ["code"],
}

HOOK_REQUEST: dict[str, Any] = {
    "type": "object",
    "required": ["hook", "hookInstance", "context"],
    "properties": {
        "hook": {"type": "string", "enum": ["patient-view", "order-sign"]},
        "hookInstance": {"type": "string", "minLength": 1, "maxLength": 128},
        "fhirServer": {"type": "string", "minLength": 1, "maxLength": 2048},
        "fhirAuthorization": {
            "type": "object",
            "required": ["access_token", "token_type", "expires_in", "scope", "subject"],
            "properties": {
                "access_token": {"type": "string", "minLength": 1, "maxLength": 8192},
                "token_type": {"const": "Bearer"},
                "expires_in": {"type": "integer", "minimum": 0},
                "scope": {"type": "string", "maxLength": 8192},
                "subject": {"type": "string", "maxLength": 1024},
                "patient": {"type": "string", "maxLength": 1024},
            },
        },
        "context": {
            "type": "object",
            "required": ["patientId"],
            "properties": {
                "patientId": _FHIR_ID,
                "userId": {"type": "string", "maxLength": 1024},
                "encounterId": {"type": "string", "maxLength": 1024},
                "draftOrders": {
                    "type": "object",
                    "required": ["resourceType"],
                    "properties": {"resourceType": {"const": "Bundle"}, "entry": {"type": "array"}},
                },
            },
        },
        "prefetch": {
            "type": "object",
            "additionalProperties": {
                "anyOf": [{"type": "object", "required": ["resourceType"]}, {"type": "null"}]
            },
        },
    },
}

FEEDBACK_REQUEST: dict[str, Any] = {
    "type": "object",
    "required": ["feedback"],
    "properties": {
        "feedback": {
            "type": "array",
            "minItems": 1,
            "maxItems": 100,
            "items": {
                "type": "object",
                "required": ["card", "outcome", "outcomeTimestamp"],
                "properties": {
                    "card": {"type": "string", "minLength": 1, "maxLength": 64},
                    "outcome": {"type": "string", "enum": ["accepted", "overridden"]},
                    "acceptedSuggestions": {
                        "type": "array",
                        "minItems": 1,
                        "maxItems": 20,
                        "items": {
                            "type": "object",
                            "required": ["id"],
                            "properties": {"id": {"type": "string", "minLength": 1, "maxLength": 64}},
                        },
                    },
                    "overrideReason": {
                        "type": "object",
                        "properties": {
                            "reason": CODING,
                            "userComment": {"type": "string", "maxLength": 4000},
                        },
                    },
                    "outcomeTimestamp": {"type": "string", "minLength": 1, "maxLength": 64},
                },
                "allOf": [
                    {
                        "if": {"properties": {"outcome": {"const": "accepted"}}},
                        "then": {"required": ["acceptedSuggestions"]},
                    },
                ],
            },
        }
    },
}

OPERATION_OUTCOME: dict[str, Any] = {
    "type": "object",
    "required": ["resourceType", "issue"],
    "properties": {"resourceType": {"const": "OperationOutcome"}, "issue": {"type": "array"}},
}

_ACTION = {
    "type": "object",
    "required": ["type", "description"],
    "properties": {
        "type": {"enum": ["create", "update", "delete"]},
        "description": _STR,
        "resource": {"type": "object"},
        "resourceId": _STR,
    },
}
CARD: dict[str, Any] = {
    "type": "object",
    "required": ["uuid", "summary", "indicator", "source"],
    "properties": {
        "uuid": {"type": "string", "format": "uuid"},
        "summary": {"type": "string", "minLength": 1, "maxLength": 139},
        "detail": {"type": "string"},
        "indicator": {"enum": ["info", "warning", "critical"]},
        "source": {"type": "object", "required": ["label"], "properties": {"label": _STR, "topic": CODING}},
        "suggestions": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["label", "uuid", "actions"],
                "properties": {
                    "label": _STR,
                    "uuid": {"type": "string", "format": "uuid"},
                    "isRecommended": {"type": "boolean"},
                    "actions": {"type": "array", "minItems": 1, "items": _ACTION},
                },
            },
        },
        "selectionBehavior": {"enum": ["at-most-one", "any"]},
        "overrideReasons": {
            "type": "array",
            "minItems": 1,
            "items": {**CODING, "required": ["code", "system", "display"]},
        },
    },
    "dependentRequired": {"suggestions": ["selectionBehavior"]},
}
CARDS_RESPONSE: dict[str, Any] = {
    "type": "object",
    "required": ["cards"],
    "properties": {"cards": {"type": "array", "items": CARD}},
}
DISCOVERY_RESPONSE: dict[str, Any] = {
    "type": "object",
    "required": ["services"],
    "properties": {
        "services": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["hook", "description", "id"],
                "properties": {
                    "hook": _STR,
                    "title": _STR,
                    "description": _STR,
                    "id": _STR,
                    "prefetch": {"type": "object", "additionalProperties": {"type": "string"}},
                    "usageRequirements": _STR,
                },
            },
        }
    },
}
FEEDBACK_RESPONSE: dict[str, Any] = {
    "type": "object",
    "required": ["stored", "duplicates"],
    "properties": {"stored": {"type": "integer"}, "duplicates": {"type": "integer"}},
}
