"""Payload masking lives in checks/common/payload.py (the ingestion-warnings digest uses it too)."""

from ...common.payload import MAX_SHOWN, mask, show_payload, show_value

__all__ = ["MAX_SHOWN", "mask", "show_payload", "show_value"]
