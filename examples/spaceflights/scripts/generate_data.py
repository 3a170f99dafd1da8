"""Write deterministic synthetic raw data for the spaceflights example.

Creates ``companies.csv``, ``reviews.csv`` and ``shuttles.xlsx`` in ``data/01_raw``
(or ``--out``). The same arguments always give the same files byte for byte: the
random generator has a fixed seed, and the xlsx timestamps are pinned.

Usage::

    python scripts/generate_data.py [--rows N] [--out DIR] [--seed S]
"""

from __future__ import annotations

import argparse
import io
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

DEFAULT_ROWS = 5000
DEFAULT_SEED = 20240611
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "data" / "01_raw"

LOCATIONS = [
    "Luna Base",
    "Mars Dome",
    "Europa Station",
    "Titan Port",
    "Ceres Yard",
    "Ganymede Hub",
    "Phobos Dock",
    "Io Outpost",
]
SHUTTLE_TYPES = ["Type V5", "Type F5", "Type A3", "Type B2", "Type C9"]
ENGINE_TYPES = ["Quantum", "Plasma", "Nuclear", "Ion"]
ENGINE_VENDORS = [
    "ThetaBase Services",
    "Orbital Works",
    "Nebula Drives",
    "Stellar Motors",
]
CANCELLATION_POLICIES = ["flexible", "moderate", "strict"]
REVIEW_SCORES = ["comfort", "amenities", "trip", "crew", "location", "price"]

# Share of missing values sprinkled into a few columns, so that preprocessing
# (and the final dropna) has something to do.
MISSING_SHARE = 0.03

# Fixed timestamp written into the xlsx metadata and zip entries.
_FIXED_ISO = "2024-01-01T00:00:00Z"
_FIXED_ZIP_TIME = (2024, 1, 1, 0, 0, 0)


def _flags(values: np.ndarray) -> np.ndarray:
    """Encode booleans as the "t"/"f" strings of the raw data."""
    return np.where(values, "t", "f")


def _with_missing(rng: np.random.Generator, values: pd.Series) -> pd.Series:
    """Blank out a small random share of the values."""
    mask = rng.random(len(values)) < MISSING_SHARE
    return values.astype(object).where(~mask, None)


def make_companies(rng: np.random.Generator, n: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Build the raw companies table and the numeric truth behind it."""
    rating = rng.integers(40, 101, size=n)
    iata = rng.random(n) < 0.6
    truth = pd.DataFrame({"id": np.arange(n), "rating": rating / 100, "iata": iata})
    companies = pd.DataFrame(
        {
            "id": truth["id"],
            "company_rating": _with_missing(rng, pd.Series([f"{r}%" for r in rating])),
            "company_location": rng.choice(LOCATIONS, size=n),
            "total_fleet_count": rng.integers(1, 40, size=n),
            "iata_approved": _flags(iata),
        }
    )
    return companies, truth


def make_shuttles(
    rng: np.random.Generator, n: int, companies: pd.DataFrame, review_rating: np.ndarray
) -> pd.DataFrame:
    """Build the raw shuttles table; its price depends on the features the model uses."""
    company_id = rng.integers(0, len(companies), size=n)
    engines = rng.integers(1, 5, size=n)
    passenger_capacity = rng.integers(1, 9, size=n)
    crew = np.clip(passenger_capacity // 2 + rng.integers(0, 3, size=n), 1, None)
    d_check = rng.random(n) < 0.7
    moon_clearance = rng.random(n) < 0.5
    company = companies.iloc[company_id]

    price = (
        400.0
        + 180.0 * passenger_capacity
        + 120.0 * engines
        + 60.0 * crew
        + 150.0 * d_check
        + 100.0 * moon_clearance
        + 200.0 * company["iata"].to_numpy()
        + 600.0 * company["rating"].to_numpy()
        + 8.0 * review_rating
        + rng.normal(0.0, 250.0, size=n)
    )
    price = np.round(np.clip(price, 50.0, None), 0)

    return pd.DataFrame(
        {
            "id": np.arange(n),
            "shuttle_location": rng.choice(LOCATIONS, size=n),
            "shuttle_type": rng.choice(SHUTTLE_TYPES, size=n),
            "engine_type": rng.choice(ENGINE_TYPES, size=n),
            "engine_vendor": rng.choice(ENGINE_VENDORS, size=n),
            "engines": engines,
            "passenger_capacity": passenger_capacity,
            "cancellation_policy": rng.choice(CANCELLATION_POLICIES, size=n),
            "crew": crew,
            "d_check_complete": _flags(d_check),
            "moon_clearance_complete": _flags(moon_clearance),
            "price": [f"${p:,.1f}" for p in price],
            "company_id": company_id,
        }
    )


def make_reviews(rng: np.random.Generator, n: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Build the raw reviews table (one row per shuttle) and the overall ratings."""
    rating = np.clip(np.round(rng.normal(88.0, 8.0, size=n)), 20, 100)
    reviews = pd.DataFrame({"shuttle_id": np.arange(n), "review_scores_rating": rating})
    for name in REVIEW_SCORES:
        score = np.clip(np.round(rating / 10 + rng.normal(0.0, 0.8, size=n)), 2, 10)
        reviews[f"review_scores_{name}"] = score
    reviews["number_of_reviews"] = rng.integers(0, 300, size=n)
    reviews["reviews_per_month"] = np.round(rng.gamma(2.0, 0.8, size=n), 2)
    reviews["review_scores_rating"] = _with_missing(rng, reviews["review_scores_rating"])
    return reviews, rating


def _pin_xlsx_timestamps(path: Path) -> None:
    """Rewrite an xlsx so its metadata dates and zip entry times are fixed."""
    with zipfile.ZipFile(path) as source:
        entries = [(info.filename, source.read(info)) for info in source.infolist()]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in entries:
            if name == "docProps/core.xml":
                text = data.decode("utf-8")
                text = re.sub(
                    r"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)",
                    rf"\g<1>{_FIXED_ISO}\g<2>",
                    text,
                )
                data = text.encode("utf-8")
            info = zipfile.ZipInfo(name, date_time=_FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(info, data)
    path.write_bytes(buffer.getvalue())


def generate(rows: int, out: Path, seed: int = DEFAULT_SEED) -> None:
    """Generate the three raw files with ``rows`` shuttles into ``out``."""
    rng = np.random.default_rng(seed)
    n_companies = max(1, rows // 2)
    companies, company_truth = make_companies(rng, n_companies)
    reviews, review_rating = make_reviews(rng, rows)
    shuttles = make_shuttles(rng, rows, company_truth, review_rating)
    # Not every shuttle has been reviewed yet.
    reviewed = np.sort(rng.permutation(rows)[: int(rows * 0.95)])
    reviews = reviews.iloc[reviewed].reset_index(drop=True)

    out.mkdir(parents=True, exist_ok=True)
    companies.to_csv(out / "companies.csv", index=False, lineterminator="\n")
    reviews.to_csv(out / "reviews.csv", index=False, lineterminator="\n")
    shuttles.to_excel(out / "shuttles.xlsx", index=False, engine="openpyxl")
    _pin_xlsx_timestamps(out / "shuttles.xlsx")
    print(
        f"Wrote {len(companies)} companies, {len(reviews)} reviews and "
        f"{len(shuttles)} shuttles to {out}"
    )


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and generate the data."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS, help="number of shuttles")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed")
    args = parser.parse_args(argv)
    if args.rows < 1:
        parser.error("--rows must be at least 1")
    generate(args.rows, args.out, args.seed)


if __name__ == "__main__":
    main()
