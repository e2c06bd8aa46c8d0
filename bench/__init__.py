"""Benchmarks against the budgets in DESIGN.md. Run `python -m bench`."""

from typing import Any


def result_row(benchmark: str, metric: str, value: float, unit: str, **extra: Any) -> dict:
    """One row of the results table; ``extra`` sets baseline, ratio, budget, met."""
    row: dict[str, Any] = {
        "benchmark": benchmark,
        "metric": metric,
        "value": round(value, 3),
        "unit": unit,
        "baseline": None,
        "ratio": None,
        "budget": None,
        "met": None,
    }
    row.update(extra)
    return row


def install_sealing_key(store: object) -> None:
    """Give a bench kiosk that never enrols a sealing key (a throwaway portal's), as
    `kiosk key install` would: every submit seals (kiosk/sealing.py), as in the field."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    from kiosk import seal_store
    from kiosk.sealing import key_message, public_b64, raw_public
    from kiosk.signing import b64, key_id
    from kiosk.store import Store

    assert isinstance(store, Store)
    private = X25519PrivateKey.generate()
    kid, public = key_id(raw_public(private)), public_b64(private)
    signer = Ed25519PrivateKey.generate()
    with store.transaction() as db:
        seal_store.put_key(
            db,
            {
                "key_id": kid,
                "public_key": public,
                "signed_by": "bench",
                "signature": b64(signer.sign(key_message(kid, public))),
            },
        )
