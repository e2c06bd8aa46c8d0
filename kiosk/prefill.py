"""Once-only prefill (issue 16, docs/once-only.md): the registry fields a form may name.

A form's ``prefill`` column names one of `FIELDS` (``person.full_name``...); the kiosk
asks the portal for exactly the names its form carries, and the portal answers with
those only. The names are the contract between forms, kiosk and portal, so they live
here, in the domain layer, once: the catalog checks forms against them and the
portal's registry (`sync.portal.registry`) maps each to what it holds.
"""

from __future__ import annotations

# The registry fields, in the order a person's record lists them.
FIELDS: tuple[str, ...] = (
    "person.full_name",
    "person.birth_date",
    "person.address",
    "person.phone",
    "person.benefit_status",
    "person.family",
)

# The benefit statuses the synthetic registry holds (a real registry's codes would be
# mapped onto these by its adapter).
BENEFIT_STATUSES: tuple[str, ...] = (
    "none",
    "pensioner",
    "disability",
    "low_income_family",
    "child_allowance",
)
