"""SYNTHETIC people for the reference registry: never real data (docs/once-only.md).

    python -m sync.portal.registry_synth OUT.csv [--count 200] [--seed 16]

Seeded, so the same seed makes the same file. Every PINFL has a valid check digit
and encodes the person's birth date and sex (`kiosk.validators.make_pinfl`); names
are Uzbek names in Latin script put together at random (surname, given name,
patronymic with o'g'li / qizi), addresses are made-up houses on common street names,
phones are +998 numbers. Family members (spouse, children) are made the same way.
Load the file with ``kiosk portal registry load OUT.csv``.
"""

from __future__ import annotations

import argparse
import random
import sys
from datetime import date, timedelta
from pathlib import Path

from kiosk import validators
from kiosk.prefill import BENEFIT_STATUSES
from sync.portal.registry import FamilyMember, Person, write_csv

MALE = (
    "Alisher", "Bobur", "Jasur", "Sardor", "Otabek", "Rustam", "Farrux", "Akmal", "Sherzod",
    "Dilshod", "Bekzod", "Ulug'bek", "Javohir", "Shoxrux", "Anvar", "Temur", "Nodir", "Aziz",
)  # fmt: skip
FEMALE = (
    "Dilnoza", "Gulnora", "Madina", "Nilufar", "Shahnoza", "Zarina", "Malika", "Feruza",
    "Kamola", "Mohira", "Sevara", "Nodira", "Umida", "Yulduz", "Lola", "Munisa", "Zuhra",
)  # fmt: skip
SURNAMES = (
    "Karimov", "Rahimov", "Toshmatov", "Yusupov", "Abdullayev", "Ergashev", "Sobirov",
    "Qodirov", "Nazarov", "Mirzayev", "Xolmatov", "Usmonov", "Islomov", "Raxmonov",
)  # fmt: skip
PLACES = (
    ("Toshkent shahri", "Chilonzor tumani", 26),
    ("Toshkent shahri", "Yunusobod tumani", 26),
    ("Samarqand viloyati", "Samarqand shahri", 18),
    ("Farg'ona viloyati", "Marg'ilon shahri", 30),
    ("Andijon viloyati", "Asaka tumani", 3),
    ("Buxoro viloyati", "G'ijduvon tumani", 6),
    ("Qoraqalpog'iston Respublikasi", "Nukus shahri", 35),
)
STREETS = ("Navoiy", "Amir Temur", "Bunyodkor", "Mustaqillik", "Bog'ishamol", "Istiqlol")
OPERATORS = ("90", "91", "93", "94", "95", "97", "98", "99", "33", "88")


def _surname(base: str, sex: str) -> str:
    return base + "a" if sex == "f" else base


def _patronymic(father: str, sex: str) -> str:
    suffix = "qizi" if sex == "f" else "o'g'li"
    return f"{father} {suffix}"


def _birth(rng: random.Random, start: date, end: date) -> date:
    return start + timedelta(days=rng.randrange((end - start).days))


def make_people(count: int, seed: int = 16, *, today: date = date(2026, 1, 1)) -> list[Person]:
    """``count`` synthetic people, the same for the same seed; PINFLs all distinct."""
    rng = random.Random(seed)
    people: list[Person] = []
    used: set[str] = set()
    while len(people) < count:
        sex = rng.choice("mf")
        born = _birth(rng, date(1940, 1, 1), today - timedelta(days=18 * 366))
        region, district, area = rng.choice(PLACES)
        pinfl = validators.make_pinfl(born, sex, area, rng.randrange(1000))
        if pinfl in used:
            continue
        used.add(pinfl)
        surname = rng.choice(SURNAMES)
        given = rng.choice(MALE if sex == "m" else FEMALE)
        father = rng.choice(MALE)
        family: list[FamilyMember] = []
        child_family = given if sex == "m" else rng.choice(MALE)
        if rng.random() < 0.7:
            spouse_sex = "f" if sex == "m" else "m"
            spouse_given = rng.choice(MALE if spouse_sex == "m" else FEMALE)
            if spouse_sex == "m":
                child_family = spouse_given
            family.append(
                FamilyMember(
                    relation="spouse",
                    full_name=(f"{_surname(rng.choice(SURNAMES), spouse_sex)} {spouse_given}"),
                    birth_date=_birth(
                        rng, born - timedelta(days=3650), born + timedelta(days=3650)
                    ).isoformat(),
                )
            )
        for _ in range(rng.randrange(4)):
            child_sex = rng.choice("mf")
            earliest = born + timedelta(days=19 * 366)
            if earliest >= today:
                break
            family.append(
                FamilyMember(
                    relation="child",
                    full_name=(
                        f"{_surname(surname, child_sex)} "
                        f"{rng.choice(MALE if child_sex == 'm' else FEMALE)} "
                        f"{_patronymic(child_family, child_sex)}"
                    ),
                    birth_date=_birth(rng, earliest, today).isoformat(),
                )
            )
        age = (today - born).days // 365
        if age >= 60:
            status = "pensioner"
        elif any(m["relation"] == "child" for m in family) and rng.random() < 0.3:
            status = "child_allowance"
        else:
            status = rng.choice(BENEFIT_STATUSES[:1] * 6 + ("disability", "low_income_family"))
        people.append(
            Person(
                pinfl=pinfl,
                full_name=f"{_surname(surname, sex)} {given} {_patronymic(father, sex)}",
                birth_date=born.isoformat(),
                address=(
                    f"{region}, {district}, {rng.choice(STREETS)} ko'chasi, "
                    f"{rng.randrange(1, 120)}-uy"
                ),
                phone=f"+998{rng.choice(OPERATORS)}{rng.randrange(10**7):07d}",
                benefit_status=status,
                family=family,
            )
        )
    return people


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sync.portal.registry_synth",
        description="Write a CSV of SYNTHETIC registry people (never real data).",
    )
    parser.add_argument("out", type=Path, metavar="OUT.csv")
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--seed", type=int, default=16)
    args = parser.parse_args(argv)
    if not 1 <= args.count <= 1_000_000:
        parser.error("--count must be 1..1000000")
    write_csv(args.out, make_people(args.count, args.seed))
    print(f"{args.count} synthetic people written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
